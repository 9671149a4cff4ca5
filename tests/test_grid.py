"""The grid engine against plain, one-level-at-a-time reference implementations."""

from collections import deque

import numpy as np
import pytest

from benchmark import grid as G


def reference_distances(passable: np.ndarray, sources: np.ndarray) -> np.ndarray:
    """Textbook BFS on one (H, W) level."""
    h, w = passable.shape
    dist = np.full((h, w), G.UNREACHABLE, np.int64)
    queue = deque()
    for r, c in zip(*np.nonzero(sources & passable)):
        dist[r, c] = 0
        queue.append((r, c))
    while queue:
        r, c = queue.popleft()
        for dr, dc in G.MOVES[:4]:
            rr, cc = r + dr, c + dc
            if 0 <= rr < h and 0 <= cc < w and passable[rr, cc] and dist[rr, cc] == G.UNREACHABLE:
                dist[rr, cc] = dist[r, c] + 1
                queue.append((rr, cc))
    return dist


@pytest.fixture(scope="module")
def mazes():
    """Mazes (long winding paths) and open rooms with random blocks, with 1-2 sources each."""
    n = 24
    rng = np.random.default_rng(0)
    maze = G.maze_grid(G.LevelRNG(np.arange(n // 2, dtype=np.uint64), "test/maze"))[..., 0] == 0
    open_room = rng.random((n // 2, G.SIZE, G.SIZE)) > 0.25
    passable = np.concatenate([maze, open_room])
    sources = np.zeros_like(passable)
    for i in range(n):
        cells = np.argwhere(passable[i])
        for r, c in cells[rng.choice(len(cells), size=1 + i % 2, replace=False)]:
            sources[i, r, c] = True
    return passable, sources


def test_distances_match_a_plain_bfs(mazes):
    passable, sources = mazes
    got = G.distances(passable, sources)
    want = np.stack([reference_distances(p, s) for p, s in zip(passable, sources)])
    assert got.dtype == np.int32
    np.testing.assert_array_equal(got, want)
    assert want[want < G.UNREACHABLE].max() > 30  # the mazes do have long paths


@pytest.mark.parametrize("limit", [0, 1, 7, 12, 200])
def test_distances_with_a_limit_mark_farther_cells_unreachable(mazes, limit):
    passable, sources = mazes
    full = G.distances(passable, sources)
    want = np.where(full <= limit, full, G.UNREACHABLE)
    np.testing.assert_array_equal(G.distances(passable, sources, limit=limit), want)


@pytest.mark.parametrize("steps", [0, 1, 12, 200])
def test_within_is_distances_up_to_a_bound(mazes, steps):
    passable, sources = mazes
    np.testing.assert_array_equal(G.within(passable, sources, steps),
                                  G.distances(passable, sources) <= steps)


def test_neighbour_counts_count_the_four_neighbours_inside_the_level():
    mask = np.random.default_rng(3).random((5, G.SIZE, G.SIZE)) > 0.5
    padded = np.pad(mask, ((0, 0), (1, 1), (1, 1))).astype(int)
    want = padded[:, :-2, 1:-1] + padded[:, 2:, 1:-1] + padded[:, 1:-1, :-2] + padded[:, 1:-1, 2:]
    got = G.neighbour_counts(mask)
    assert got.dtype == np.int8
    np.testing.assert_array_equal(got, want)


def test_mazes_are_spanning_trees_of_their_cells():
    """Kruskal's maze: every cell reachable, and exactly cells - 1 passages (no cycle)."""
    walls = G.maze_walls(G.LevelRNG(np.arange(16, dtype=np.uint64), "test/tree"), 6, 6)
    open_ = ~walls
    cells = open_[:, 1::2, 1::2].sum(axis=(1, 2))
    passages = open_.sum(axis=(1, 2)) - cells
    assert (cells == 36).all() and (passages == 35).all()
    source = np.zeros_like(open_)
    source[:, 1, 1] = True
    assert (G.distances(open_, source)[open_] < G.UNREACHABLE).all()


def test_level_numbers_do_not_depend_on_the_batch():
    seeds = np.arange(50, dtype=np.uint64)
    whole = G.LevelRNG(seeds, "test/rng").random((3,))
    alone = np.concatenate([G.LevelRNG(seeds[i:i + 1], "test/rng").random((3,)) for i in range(50)])
    np.testing.assert_array_equal(whole, alone)
    assert ((whole >= 0) & (whole < 1)).all()


def test_one_draw_of_k_numbers_equals_k_draws_of_one():
    """What lets a generator take all its numbers in one call (SpuriousCue does)."""
    seeds = np.arange(7, dtype=np.uint64)
    one_call = G.LevelRNG(seeds, "test/fuse").random((5,))
    rng = G.LevelRNG(seeds, "test/fuse")
    calls = np.stack([rng.random(), *rng.random((3,)).T, rng.random()], axis=1)
    np.testing.assert_array_equal(one_call, calls)
    rng = G.LevelRNG(seeds, "test/fuse")
    np.testing.assert_array_equal(rng.integers(6, (5,)), G.scaled(one_call, 6))
    columns = G.LevelRNG(seeds, "test/fuse").random_columns(5)
    assert columns.flags.c_contiguous
    np.testing.assert_array_equal(columns, one_call.T)


@pytest.mark.parametrize("k", [1, 4, 60])
def test_permutations_are_the_argsort_of_the_same_draws(k):
    seeds = np.arange(3000, dtype=np.uint64)
    expected = np.argsort(G.LevelRNG(seeds, "test/perm").random((k,)), axis=1, kind="stable")
    rng = G.LevelRNG(seeds, "test/perm")
    np.testing.assert_array_equal(rng.permutations(k), expected)
    np.testing.assert_array_equal(rng.random(), G.LevelRNG(seeds, "test/perm").random((k + 1,))[:, k])
    with pytest.raises(ValueError, match="do not fit"):
        rng.permutations(2**11 + 1)


def test_choice_cells_picks_each_admissible_cell_uniformly():
    n = 40_000
    mask = np.zeros((n, G.SIZE, G.SIZE), bool)
    admissible = [(1, 1), (3, 7), (11, 11), (12, 0)]
    for r, c in admissible:
        mask[:, r, c] = True
    picked = G.LevelRNG(np.arange(n, dtype=np.uint64), "test/choice").choice_cells(mask)
    assert mask[np.arange(n), picked[:, 0], picked[:, 1]].all()
    counts = np.array([((picked[:, 0] == r) & (picked[:, 1] == c)).sum() for r, c in admissible])
    assert np.abs(counts / n - 0.25).max() < 0.01  # 4.6 standard deviations


def test_choice_cells_refuses_a_level_without_a_cell():
    mask = np.ones((3, G.SIZE, G.SIZE), bool)
    mask[1] = False
    with pytest.raises(RuntimeError, match="no admissible start"):
        G.LevelRNG(np.arange(3, dtype=np.uint64), "test/none").choice_cells(mask, "start")


def test_put_flat_writes_one_code_or_a_code_per_cell():
    grid = G.empty_room(3)
    cells = G.flat_index(grid.shape, np.array([[[1, 1], [2, 3]], [[4, 5], [6, 7]], [[8, 9], [10, 11]]]))
    codes = np.arange(3 * 2 * 3, dtype=np.uint8).reshape(3, 2, 3)
    G.put_flat(grid, cells, codes)
    np.testing.assert_array_equal(grid[1, 6, 7], codes[1, 1])
    G.put_flat(grid, cells[:, 0], G.cell("key", "yellow"))
    np.testing.assert_array_equal(grid[2, 8, 9], G.cell("key", "yellow"))
    np.testing.assert_array_equal(grid[2, 10, 11], codes[2, 1])


def test_put_from_table_writes_the_table_rows_chosen():
    table = np.arange(5 * 3, dtype=np.uint8).reshape(5, 3)
    which = np.array([[4, 0], [2, 3], [1, 1]])
    pos = np.array([[[1, 1], [2, 3]], [[4, 5], [6, 7]], [[8, 9], [10, 11]]])
    grid, expected = G.empty_room(3), G.empty_room(3)
    G.put_from_table(grid, G.flat_index(grid.shape, pos), table, which)
    for level in range(3):
        for k in range(2):
            expected[level, pos[level, k, 0], pos[level, k, 1]] = table[which[level, k]]
    np.testing.assert_array_equal(grid, expected)


@pytest.mark.parametrize("p", [0.0, 0.3, 1.0])
def test_chance_is_random_below_p_and_always_counts_one_draw(p):
    """For p = 0 or 1 no number is computed, yet the numbers after it are those after a draw."""
    seeds = np.arange(500, dtype=np.uint64)
    drawn, skipped = G.LevelRNG(seeds, "test/chance"), G.LevelRNG(seeds, "test/chance")
    np.testing.assert_array_equal(skipped.chance(p), drawn.random() < p)
    np.testing.assert_array_equal(skipped.random((2,)), drawn.random((2,)))


@pytest.mark.parametrize("levels", [1, 3, 1024])
def test_pack_rows_round_trips(levels):
    mask = np.random.default_rng(levels).random((levels, G.SIZE, G.SIZE + 2)) > 0.5
    view = mask[..., 1:-1]  # not contiguous
    packed = G.pack_rows(view)
    assert packed.shape == (levels, G.SIZE) and packed.dtype == np.uint16
    np.testing.assert_array_equal(G.unpack_rows(packed), view)
    np.testing.assert_array_equal(packed[:, 0] & 1, view[:, 0, 0])  # bit c is column c


def reference_descend(dist: np.ndarray, pos) -> int:
    """The action toward the first closest of the four neighbours (clipped at the edge), or STAY
    on a source or where no neighbour is closer than here."""
    h, w = dist.shape
    r, c = pos
    here = dist[r, c]
    around = [dist[min(max(r + dr, 0), h - 1), min(max(c + dc, 0), w - 1)] for dr, dc in G.MOVES[:4]]
    best = min(around)
    if here == 0 or best >= min(here, G.UNREACHABLE):
        return G.STAY
    return around.index(best)


@pytest.mark.parametrize("copies", [1, 12])  # a small batch and one past descend's batch path
def test_descend_moves_to_the_first_closest_neighbour(mazes, copies):
    passable, sources = mazes
    dist = np.concatenate([G.distances(passable, sources)] * copies)
    rng = np.random.default_rng(4)
    for _ in range(5):
        agent = rng.integers(0, G.SIZE, (len(dist), 2))
        want = [reference_descend(d, p) for d, p in zip(dist, agent)]
        np.testing.assert_array_equal(G.descend(dist, agent), want)
        alone = [G.descend(dist[i:i + 1], agent[i:i + 1])[0] for i in range(len(dist))]  # batch of one
        np.testing.assert_array_equal(alone, want)
    stacked = np.stack([dist, dist[::-1]], axis=1)         # (n, 2, H, W) with a map chosen per level
    which = rng.integers(0, 2, len(dist))
    want = [reference_descend(stacked[i, k], p) for i, (k, p) in enumerate(zip(which, agent))]
    np.testing.assert_array_equal(G.descend(stacked, agent, which=which), want)
    alone = [G.descend(stacked[i:i + 1], agent[i:i + 1], which=which[i:i + 1])[0] for i in range(len(dist))]
    np.testing.assert_array_equal(alone, want)


def test_step_uniform_is_splitmix_of_key_step_and_index():
    """An NPC's draw: SplitMix64 of (key + t * increment), then of that plus index * stream step,
    its top 53 bits as a float in [0, 1); a pure function of the three."""
    mask = (1 << 64) - 1
    keys = G.LevelRNG(np.arange(9, dtype=np.uint64), "test/npc").bits()
    seen = set()
    for key in keys:
        for t in (0, 1, 57):
            for index in range(5):
                base = reference_splitmix64((int(key) + t * 0x9E3779B97F4A7C15) & mask)
                x = reference_splitmix64((base + index * 0xD1B54A32D192ED03) & mask)
                want = (x >> 11) / 2.0 ** 53
                assert G.step_uniform(key, t, index) == want
                seen.add(want)
    assert len(seen) == 9 * 3 * 5 and all(0 <= u < 1 for u in seen)


def reference_splitmix64(x: int) -> int:
    """SplitMix64's finaliser on a Python int, with explicit 64-bit wrapping."""
    mask = (1 << 64) - 1
    x = (x + 0x9E3779B97F4A7C15) & mask
    x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & mask
    x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & mask
    return x ^ (x >> 31)


def test_splitmix_wraps_at_64_bits_in_kernels_and_on_arrays():
    x = np.array([0, 1, 2**63 - 1, 2**63, 2**64 - 1, 0x0123456789ABCDEF], np.uint64)
    want = [reference_splitmix64(int(v)) for v in x]
    assert [int(G.splitmix64_one(v)) for v in x] == want
    assert G.splitmix64(x).tolist() == want
    assert G.splitmix64(x.reshape(2, 3)).reshape(-1).tolist() == want


def test_draw_inventory_row_shows_one_item_per_count_in_the_top_wall():
    item = G.cell("key", "yellow", "active")
    wall = G.cell("wall", "grey")
    rows = G.inventory_rows(bytes(item))
    grid = G.empty_room(5)
    counts = np.array([0, 3, 11, 14, 2])
    before = grid.copy()
    for level in range(4):
        G.draw_inventory_row(grid[level], rows, counts[level])
    for level, count in enumerate(counts[:4]):
        row = [tuple(item) if 1 <= col <= min(count, G.SIZE - 2) else tuple(wall) for col in range(G.SIZE)]
        assert [tuple(c) for c in grid[level, 0]] == row
    assert np.array_equal(grid[:, 1:], before[:, 1:])       # only the top row, only the levels given
    assert np.array_equal(grid[4], before[4])
    G.draw_inventory_row(grid[1], rows, 0)                  # back to a plain wall
    assert np.array_equal(grid[1], before[1])


def test_an_agent_moves_one_cell_unless_a_wall_or_the_region_stops_it():
    grid = G.maze_grid(G.LevelRNG(np.arange(3, dtype=np.uint64), "test/moves"))
    region = G.region_mask(slice(2, G.SIZE - 1), slice(1, G.SIZE - 1))
    wall = G.OBJECT_TO_IDX["wall"]
    stopped = 0
    for level in range(3):
        for row, col in np.argwhere(grid[level, ..., 0] != wall):
            for action, (d_row, d_col) in enumerate(G.MOVES.tolist()):
                to = (row + d_row, col + d_col)
                for mask in (region, G.ANYWHERE):
                    want = to if grid[level][to][0] != wall and mask[to] else (row, col)
                    assert G.moved(grid[level], row, col, action, mask) == want, (level, row, col, action)
                    stopped += want == (row, col) and action != G.STAY
    assert stopped > 100     # walls and the region did stop moves


def test_scaled_one_is_scaled():
    uniforms = np.random.default_rng(4).random(1000)
    for high in (1, 2, 3, 9):
        np.testing.assert_array_equal([G.scaled_one(u, high) for u in uniforms], G.scaled(uniforms, high))


def test_importing_the_suite_does_not_load_numba():
    """Kernels compile on first call: an agent process importing the engine for its constants,
    and a CLI command that steps nothing, never pay for numba."""
    import subprocess
    import sys

    code = ("import sys, benchmark, benchmark.cli; from benchmark.contract import registry; registry(); "
            "assert 'numba' not in sys.modules, 'numba imported'")
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)


def test_a_modules_cached_kernels_go_when_the_engine_changes(tmp_path):
    module = tmp_path / "task_module.py"
    module.write_text("")
    cache = tmp_path / "__pycache__"
    cache.mkdir()
    stale = [cache / "task_module._step_levels-10.py311.nbi", cache / "task_module._step_levels-10.py311.1.nbc"]
    other = cache / "other_module._step_levels-10.py311.nbi"
    for path in (*stale, other):
        path.write_text("compiled")
    G.drop_stale_kernel_cache(str(module))            # no stamp yet: dropped, and stamped
    assert not any(path.exists() for path in stale) and other.exists()
    assert (cache / "task_module.engine-stamp").exists()
    for path in stale:
        path.write_text("compiled")
    G.drop_stale_kernel_cache(str(module))            # the engine unchanged: kept
    assert all(path.exists() for path in stale)
    (cache / "task_module.engine-stamp").write_text("an older engine")
    G.drop_stale_kernel_cache(str(module))
    assert not any(path.exists() for path in stale)
