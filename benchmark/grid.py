"""The batched grid engine: encoding, level randomness, layouts, movement, BFS and rendering.

Everything here works on a batch of B levels at once with array operations; a task module
builds its levels and dynamics from these pieces and holds only what makes it itself.

A level's state is a dict of numpy arrays with the batch on axis 0. Two keys are required:

    grid   (B, H, W, 3) uint8   object type, colour, state of every cell, without the agent
    agent  (B, 2) int64         the agent's (row, col)

Tasks add their own keys (inventories, NPC positions, flags). Row 0 is the top, as in Minigrid.
"""

from __future__ import annotations

import functools
import hashlib
from functools import lru_cache

import numpy as np

SIZE = 13  # suite-wide grid side: one observation shape for every task, as in jaxgmg's 13x13

OBJECT_TO_IDX = {
    "empty": 0, "wall": 1, "agent": 2, "door": 3, "ball": 4, "box": 5, "coin": 6,
    "cheese": 7, "dish": 8, "key": 9, "chest": 10, "apple": 11, "shield": 12,
    "monster": 13, "guide": 14, "beacon": 15, "lava": 16, "cue": 17,
}
COLOR_TO_IDX = {
    "black": 0, "red": 1, "green": 2, "blue": 3, "purple": 4, "yellow": 5,
    "grey": 6, "orange": 7, "white": 8, "brown": 9,
}
# Third channel. `marked` is a floor marking under an object (SpuriousCue's cue tile);
# `active` and `used` are for objects a task switches (beacons lit, chests opened).
STATE_TO_IDX = {"none": 0, "marked": 1, "active": 2, "used": 3}

IDX_TO_OBJECT = {v: k for k, v in OBJECT_TO_IDX.items()}
IDX_TO_COLOR = {v: k for k, v in COLOR_TO_IDX.items()}

# Action index -> (d_row, d_col): 0 up, 1 right, 2 down, 3 left, 4 stay.
ACTION_NAMES = ("up", "right", "down", "left", "stay")
MOVES = np.array([[-1, 0], [0, 1], [1, 0], [0, -1], [0, 0]], dtype=np.int64)
STAY = 4

UNREACHABLE = np.iinfo(np.int32).max // 2


def cell(obj: str, color: str = "black", state: str = "none") -> np.ndarray:
    """One cell's (type, colour, state) code."""
    return np.array([OBJECT_TO_IDX[obj], COLOR_TO_IDX[color], STATE_TO_IDX[state]], np.uint8)


# ---------------------------------------------------------------------------------------------
# Level randomness

# SplitMix64: its increment and multipliers, and the shifts of its finaliser; numpy scalars for
# arrays and kernels.
_SPLITMIX_INT = (0x9E3779B97F4A7C15, 0xBF58476D1CE4E5B9, 0x94D049BB133111EB)
_SHIFTS_INT = (30, 27, 31)
_STREAM_STEP_INT = 0xD1B54A32D192ED03  # counter -> a level's stream position
_FLOAT_SHIFT_INT = 11                  # the top 53 bits make a double in [0, 1)
_STREAM_STEP, _FLOAT_SHIFT = np.uint64(_STREAM_STEP_INT), np.uint64(_FLOAT_SHIFT_INT)


def _splitmix64(x: np.ndarray) -> np.ndarray:
    """SplitMix64 finaliser on uint64 arrays (wrapping arithmetic: numpy does not check integer
    overflow in array operations), on a fresh copy."""
    return _splitmix64_inplace(np.array(x, np.uint64))


def _splitmix64_inplace(x: np.ndarray) -> np.ndarray:
    """`_splitmix64` overwriting x (uint64, C-contiguous), in one pass of a kernel (as numpy
    calls, nine passes over the array)."""
    _splitmix64_all(x.reshape(-1))
    return x


def jit(function):
    """A kernel: a function compiled with numba (nopython) on first call, for dynamics whose
    numpy form is dozens of calls on arrays of a few items, looping over the levels of a batch
    in machine code. Kernels call kernels (by module attribute or global name), inlined.

    numba is imported, and every kernel defined so far compiled, only when one is first called:
    code that never steps a level (an agent process importing this module for its constants)
    never loads it. Compiled code is cached on disk beside its module where that is writable.
    numba notices a change to a kernel's own file only; `_drop_stale_kernel_cache` also drops a
    module's cached code when this file (the engine's kernels, and this decorator) changes."""
    kernel = _Kernel(function)
    _KERNELS.append(kernel)
    return kernel


class _Kernel:
    """A `jit` function until its first call; then numba's, also in its module's globals."""

    def __init__(self, function):
        functools.update_wrapper(self, function)
        self.function, self.compiled = function, None

    def __call__(self, *args):
        if self.compiled is None:
            _compile_kernels()
        return self.compiled(*args)


_KERNELS: list[_Kernel] = []


def _compile_kernels() -> None:
    import numba

    waiting = [kernel for kernel in _KERNELS if kernel.compiled is None]
    for path in {kernel.function.__code__.co_filename for kernel in waiting}:
        _drop_stale_kernel_cache(path)
    options = {"inline": "always"}   # into calling kernels: a call with array arguments cost ~30 ns a level
    for kernel in waiting:
        try:
            kernel.compiled = numba.njit(cache=True, **options)(kernel.function)
        except RuntimeError:   # no writable place for the cache: compile in every process
            kernel.compiled = numba.njit(**options)(kernel.function)
        kernel.function.__globals__[kernel.function.__name__] = kernel.compiled


def _drop_stale_kernel_cache(module_file: str) -> None:
    """Delete numba's cached code of a module's kernels if this file (the engine) changed since
    it was cached: a stamp beside that code holds this file's hash."""
    import pathlib

    module = pathlib.Path(module_file)
    stamp = module.parent / "__pycache__" / f"{module.stem}.engine-stamp"
    digest = hashlib.sha256(pathlib.Path(__file__).read_bytes()).hexdigest()
    try:
        if stamp.exists() and stamp.read_text() == digest:
            return
        for cached in module.parent.glob(f"__pycache__/{module.stem}.*.nb[ic]"):
            cached.unlink(missing_ok=True)
        stamp.parent.mkdir(exist_ok=True)
        stamp.write_text(digest)
    except OSError:   # a read-only install: numba caches elsewhere (keyed by the module's file)
        pass


_SM_ADD, _SM_MUL1, _SM_MUL2 = (np.uint64(c) for c in _SPLITMIX_INT)
_SM_SHIFT0, _SM_SHIFT1, _SM_SHIFT2 = (np.uint64(s) for s in _SHIFTS_INT)


@jit
def splitmix64_one(x):
    """`_splitmix64` of one uint64, inside a kernel."""
    x = x + _SM_ADD
    x = (x ^ (x >> _SM_SHIFT0)) * _SM_MUL1
    x = (x ^ (x >> _SM_SHIFT1)) * _SM_MUL2
    return x ^ (x >> _SM_SHIFT2)


@jit
def _splitmix64_all(flat):
    for j in range(len(flat)):
        flat[j] = splitmix64_one(flat[j])


@jit
def step_uniform(key, t, index):
    """A uniform float in [0, 1), a pure function of (a level's key, step t, index): randomness
    for what moves on its own (NPCs) that needs no generator state and no per-step storage.
    `key` uint64, already hashed; `t` and `index` whole numbers >= 0."""
    base = splitmix64_one(key + np.uint64(t) * _SM_ADD)
    x = splitmix64_one(base + np.uint64(index) * _STREAM_STEP)
    return (x >> _FLOAT_SHIFT) * (1.0 / 9007199254740992.0)


def stable_hash64(text: str) -> int:
    """A 64-bit hash of a string that is the same on every machine and Python run."""
    return int.from_bytes(hashlib.blake2b(text.encode(), digest_size=8).digest(), "little")


class LevelRNG:
    """Counter-based random numbers for a batch of levels, one independent stream per seed.

    Level i's numbers depend only on (key, seeds[i]) and on how many numbers were drawn before,
    never on which other levels share the batch, so generation is batched yet every level is a
    pure function of its seed. Generators draw in lockstep: every call draws for every level.
    """

    def __init__(self, seeds, key: str):
        seeds = np.asarray(seeds, dtype=np.uint64).reshape(-1)
        self.n = len(seeds)
        self._base = _splitmix64(seeds ^ np.uint64(stable_hash64(key)))
        self._counter = 0

    def bits(self, shape=()) -> np.ndarray:
        """uint64 array of shape (n, *shape)."""
        shape = tuple(np.atleast_1d(shape)) if shape != () else ()
        k = int(np.prod(shape)) if shape else 1
        return self._bits(k, by_level=True).reshape((self.n, *shape))

    def _bits(self, k: int, by_level: bool) -> np.ndarray:
        """The next k numbers of every level: (n, k), or (k, n) unless `by_level`."""
        counters = np.arange(self._counter, self._counter + k, dtype=np.uint64)
        self._counter += k
        counters *= _STREAM_STEP
        if by_level:   # wraps: numpy does not check overflow in array operations
            x = np.add(self._base[:, None], counters, dtype=np.uint64)
        else:
            x = np.add(counters[:, None], self._base, dtype=np.uint64)
        return _splitmix64_inplace(x)

    def random(self, shape=()) -> np.ndarray:
        """Uniform floats in [0, 1), shape (n, *shape)."""
        return _to_unit(self.bits(shape))

    def random_columns(self, k: int) -> np.ndarray:
        """The numbers `random((k,))` would return, transposed: (k, n), each row contiguous (a
        generator that reads its draws one kind at a time reads them along the batch)."""
        return _to_unit(self._bits(k, by_level=False))

    def chance(self, p: float) -> np.ndarray:
        """(n,) bool, True with probability p: `random() < p`. For p = 0 or 1 the answer needs
        no numbers, so none are computed, but the draw is still counted: later numbers stay
        where they were."""
        if p <= 0 or p >= 1:
            self._counter += 1
            return np.full(self.n, p >= 1)
        return self.random() < p

    def integers(self, high, shape=()) -> np.ndarray:
        """Uniform ints in [0, high); `high` may be an array broadcasting against (n, *shape)."""
        return scaled(self.random(shape), high)

    def choice_cells(self, mask: np.ndarray, what: str = "cell") -> np.ndarray:
        """A uniformly random True cell of each level's (H, W) mask: (n, 2) (row, col).
        One draw per level: the k-th True cell in row-major order, k uniform below the count."""
        n, h, w = mask.shape
        cells = h * w
        # Count on bit-packed masks: a running count over bytes (one per 8 cells) finds the byte
        # holding each level's (k+1)-th True cell, a table the bit within it. A running count
        # over every cell took 1 ms at batch 1024.
        row_bytes = -(-cells // 8)
        padded = np.zeros((n, 8 * row_bytes), bool)
        padded[:, :cells] = mask.reshape(n, cells)
        packed = np.packbits(padded.reshape(-1), bitorder="little")
        ones = np.bitwise_count(packed)
        running = np.cumsum(ones, dtype=np.int32)
        ends = running[row_bytes - 1::row_bytes]
        base = np.concatenate(([0], ends[:-1])).astype(np.int32)
        count = ends - base
        if (count == 0).any():
            raise RuntimeError(f"level generator: no admissible {what} in some level")
        k = np.floor(self.random() * count).astype(np.int32)
        rank = base + k + 1                                  # of the wanted cell, over the batch
        byte = np.searchsorted(running, rank)
        within = rank - (running.take(byte) - ones.take(byte)) - 1
        flat = (byte - np.arange(n) * row_bytes) * 8 + _NTH_BIT[packed.take(byte), within]
        cell = np.empty((n, 2), np.int64)
        np.divmod(flat, w, out=(cell[:, 0], cell[:, 1]))
        return cell

    # Draws are numbered per level: `random((k,))` returns, in its k columns, the numbers that k
    # consecutive one-number calls would, so a generator may take all its numbers in one call
    # (one hash pass over the batch instead of one per call) and get the same levels.

    def permutations(self, k: int) -> np.ndarray:
        """(n, k) int32: one random permutation of 0..k-1 per level, the argsort of the numbers
        `random((k,))` would draw (equal numbers, about one level in 2**53 / k**2, keep index
        order). Each number's 53 bits are sorted as values with the index packed below them:
        numpy sorts values 2-3x faster than it argsorts them."""
        shift = max(1, (k - 1).bit_length())
        if 53 + shift > 64:
            raise ValueError(f"permutations of {k} items do not fit a 64-bit sort key")
        keys = self.bits((k,))
        keys >>= _FLOAT_SHIFT                         # the 53 bits `random` makes a float of
        keys <<= np.uint64(shift)
        keys |= np.arange(k, dtype=np.uint64)
        keys.sort(axis=1)
        keys &= np.uint64((1 << shift) - 1)
        return keys.astype(np.int32)


def _to_unit(x: np.ndarray) -> np.ndarray:
    """uint64 -> uniform floats in [0, 1) from the top 53 bits (x is overwritten)."""
    x >>= _FLOAT_SHIFT
    out = x.astype(np.float64)
    out *= 1.0 / (1 << 53)
    return out


def scaled(uniforms: np.ndarray, high) -> np.ndarray:
    """Uniform ints in [0, high) from uniform floats in [0, 1) (as `LevelRNG.integers` draws)."""
    return np.floor(uniforms * high).astype(np.int64)


@jit
def scaled_one(uniform, high):
    """`scaled` of one number, inside a kernel."""
    return int(np.floor(uniform * high))


def _nth_bit_table() -> np.ndarray:
    """table[byte, j]: the position (little-endian bit order) of the j-th set bit of `byte`."""
    table = np.zeros((256, 8), np.int64)
    for byte in range(256):
        bits = [bit for bit in range(8) if byte >> bit & 1]
        table[byte, :len(bits)] = bits
    return table


_NTH_BIT = _nth_bit_table()


# ---------------------------------------------------------------------------------------------
# Layouts

def batch_index(n: int) -> np.ndarray:
    return np.arange(n)


@lru_cache(maxsize=1)
def _room() -> np.ndarray:
    room = np.zeros((SIZE, SIZE, 3), np.uint8)
    room[[0, -1], :] = cell("wall", "grey")
    room[:, [0, -1]] = cell("wall", "grey")
    return room


def empty_room(n: int) -> np.ndarray:
    """(n, SIZE, SIZE, 3) grids with a wall border and an empty interior."""
    return np.broadcast_to(_room(), (n, SIZE, SIZE, 3)).copy()


@lru_cache(maxsize=None)
def _maze_edges(cell_rows: int, cell_cols: int):
    """Edges between neighbouring maze cells: endpoints (cell ids) and the wall cell between."""
    ids = np.arange(cell_rows * cell_cols).reshape(cell_rows, cell_cols)
    u = np.concatenate([ids[:, :-1].ravel(), ids[:-1, :].ravel()])
    v = np.concatenate([ids[:, 1:].ravel(), ids[1:, :].ravel()])
    r, c = np.divmod(u, cell_cols)
    vertical = np.arange(len(u)) >= cell_rows * (cell_cols - 1)       # edge to the cell below
    return u, v, 2 * r + 1 + vertical, 2 * c + 1 + ~vertical


def maze_walls(rng: LevelRNG, cell_rows: int = 6, cell_cols: int = 6, loops: int = 0) -> np.ndarray:
    """Random mazes by Kruskal's algorithm (as procgen's maze generator).

    Returns (n, 2*cell_rows+1, 2*cell_cols+1) bool, True = wall; maze cells sit at odd indices.
    Edges are visited in a random order per level (`LevelRNG.permutations`); an edge joining
    two different components is opened (`_kruskal`, a kernel). Then `loops` more closed walls
    between cells are knocked out, giving a maze with cycles.
    """
    n = rng.n
    u, v, wall_r, wall_c = _maze_edges(cell_rows, cell_cols)
    opened = np.zeros((n, len(u)), bool)
    _kruskal(rng.permutations(len(u)), u, v, cell_rows * cell_cols, opened)
    if loops:
        keys = np.where(opened, -1.0, rng.random((len(u),)))
        knock = np.argpartition(-keys, loops - 1, axis=1)[:, :loops]
        opened[np.arange(n)[:, None], knock] |= np.take_along_axis(keys, knock, axis=1) >= 0
    walls = np.ones((n, 2 * cell_rows + 1, 2 * cell_cols + 1), bool)
    walls[:, 1::2, 1::2] = False
    walls[:, wall_r, wall_c] = ~opened
    return walls


@jit
def _kruskal(order, u, v, n_cells, opened):
    """opened[i, e] = True for each edge e (between cells u[e] and v[e]) that joins two
    components when level i visits its edges in the order order[i] (union-find with path
    halving; which edges open depends on the order alone)."""
    parent = np.empty(n_cells, np.int64)
    for i in range(order.shape[0]):
        for c in range(n_cells):
            parent[c] = c
        for k in range(order.shape[1]):
            edge = order[i, k]
            a, b = u[edge], v[edge]
            while parent[a] != a:
                parent[a] = parent[parent[a]]
                a = parent[a]
            while parent[b] != b:
                parent[b] = parent[parent[b]]
                b = parent[b]
            if a != b:
                parent[b] = a
                opened[i, edge] = True


def maze_grid(rng: LevelRNG, loops: int = 0) -> np.ndarray:
    """(n, SIZE, SIZE, 3) Kruskal maze grids filling the whole interior (6x6 maze cells)."""
    walls = maze_walls(rng, (SIZE - 1) // 2, (SIZE - 1) // 2, loops)
    return walls_to_grid(walls)


def walls_to_grid(walls: np.ndarray) -> np.ndarray:
    """Bool (n, SIZE, SIZE) wall map -> grid with grey walls."""
    grid = np.zeros((*walls.shape, 3), np.uint8)
    wall = cell("wall", "grey")
    for channel in range(3):          # channel by channel: ~10x faster than a broadcast multiply
        if wall[channel]:
            np.multiply(walls, wall[channel], out=grid[..., channel], casting="unsafe")
    return grid


def place(grid: np.ndarray, pos: np.ndarray, code: np.ndarray, where: np.ndarray | None = None) -> None:
    """Write one cell code at pos (n, 2) in each level (only where `where` is True)."""
    cells = flat_index(grid.shape, pos)
    put_flat(grid, cells if where is None else cells[where], code)


def is_type(grid: np.ndarray, obj: str) -> np.ndarray:
    """(…, H, W) bool mask of cells holding `obj`."""
    return grid[..., 0] == OBJECT_TO_IDX[obj]


@lru_cache(maxsize=64)
def level_offsets(n: int, cells: int) -> np.ndarray:
    """(n,) where each of n levels of `cells` items starts in their flat array (cached: read only)."""
    offsets = np.arange(n) * cells
    offsets.flags.writeable = False
    return offsets


def cell_index(pos: np.ndarray, w: int = SIZE) -> np.ndarray:
    """Index of each cell pos (..., 2) among its level's cells, row-major (W columns)."""
    return pos[..., 0] * w + pos[..., 1]


def flat_index(shape: tuple, pos: np.ndarray) -> np.ndarray:
    """Index of each level's cell `pos` (n, 2), or cells (n, k, 2), into grid.reshape(-1, 3) of a
    (n, H, W, 3) grid."""
    n, h, w = shape[:3]
    offsets = level_offsets(n, h * w)
    if pos.ndim > 2:
        offsets = offsets.reshape(n, *(1,) * (pos.ndim - 2))
    return offsets + cell_index(pos, w)


def same_cell(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """(n,) bool: positions a and b (n, 2) are the same cell (faster than .all(axis=1))."""
    return (a[:, 0] == b[:, 0]) & (a[:, 1] == b[:, 1])


def one_hot_cells(shape: tuple, pos: np.ndarray) -> np.ndarray:
    """(n, H, W) bool with one True at pos (n, 2) per level."""
    mask = np.zeros(shape, bool)
    mask[np.arange(shape[0]), pos[:, 0], pos[:, 1]] = True
    return mask


@lru_cache(maxsize=4)
def _boxes(h: int, w: int) -> np.ndarray:
    """(h, w, h, w) bool: for each cell, the 3x3 box around it (clipped at the grid's edge)."""
    r, c = np.indices((h, w))
    return (np.abs(r[:, :, None, None] - r) <= 1) & (np.abs(c[:, :, None, None] - c) <= 1)


def box_around(shape: tuple, pos: np.ndarray) -> np.ndarray:
    """(n, H, W) bool: the cell pos (n, 2) and its 8 neighbours in each level, i.e.
    grow(one_hot_cells(shape, pos), diagonal=True), read from a table."""
    return _boxes(*shape[1:3])[pos[:, 0], pos[:, 1]]


def region_mask(rows: slice, cols: slice) -> np.ndarray:
    """(SIZE, SIZE) bool mask of a rectangular region."""
    mask = np.zeros((SIZE, SIZE), bool)
    mask[rows, cols] = True
    return mask


# ---------------------------------------------------------------------------------------------
# Movement

@lru_cache(maxsize=None)
def blocking_table(blocking: tuple[str, ...]) -> np.ndarray:
    table = np.zeros(256, bool)
    table[[OBJECT_TO_IDX[o] for o in blocking]] = True
    return table


@lru_cache(maxsize=None)
def passable_table(blocking: tuple[str, ...]) -> np.ndarray:
    return ~blocking_table(blocking)


_WALL_TYPE = OBJECT_TO_IDX["wall"]
ANYWHERE = np.ones((SIZE, SIZE), bool)   # the region of a move that only walls block


@jit
def moved(grid, row, col, action, region):
    """One agent's move inside a kernel: the cell (row, col) reaches with `action` in its level's
    grid (H, W, 3), or (row, col) itself where that cell is a wall or outside `region` (H, W)
    bool."""
    to_row, to_col = row + MOVES[action, 0], col + MOVES[action, 1]
    if grid[to_row, to_col, 0] != _WALL_TYPE and region[to_row, to_col]:
        return to_row, to_col
    return row, col


@jit
def move_agent(grid, agent, action, region):
    """`moved` for one level's agent (2,), which it updates; returns its new (row, col)."""
    agent[0], agent[1] = moved(grid, agent[0], agent[1], action, region)
    return agent[0], agent[1]


def run_step(kernel, n: int, *args):
    """Run a task's step kernel over n levels; it writes each level's true reward, proxy reward
    and termination into the three arrays passed after `args`, which this returns."""
    true_r, proxy_r, done = np.empty(n), np.empty(n), np.empty(n, bool)
    kernel(*args, true_r, proxy_r, done)
    return true_r, proxy_r, done


@jit
def put_cell(grid, row, col, code):
    """Write the cell code (3,) at (row, col) of one level's grid (H, W, 3), inside a kernel."""
    for channel in range(3):
        grid[row, col, channel] = code[channel]


@jit
def copy_cell(grid, source, row, col):
    """Copy the code at (row, col) from one level's `source` into its `grid`, inside a kernel."""
    for channel in range(3):
        grid[row, col, channel] = source[row, col, channel]


# ---------------------------------------------------------------------------------------------
# Breadth-first search, batched

def pack_rows(mask: np.ndarray) -> np.ndarray:
    """(B, H, W<=16) bool -> (B, H) uint16; bit c of a row is column c. The rows are padded to
    16 columns and packed as one flat array: packbits along a 13-wide last axis is ~4x slower."""
    *lead, w = mask.shape
    padded = np.zeros((*lead, 16), bool)
    if padded.size >= 4096:
        # Each row of w bools copied as one w-byte item: 2x faster than a bool copy of w per row
        # (slower on a few rows).
        padded.reshape(-1, 16)[:, :w].view(f"V{w}")[...] = np.ascontiguousarray(mask).reshape(-1, w).view(f"V{w}")
    else:
        padded[..., :w] = mask
    return np.packbits(padded.reshape(-1), bitorder="little").view("<u2").reshape(lead)


def unpack_rows(rows: np.ndarray, width: int = SIZE) -> np.ndarray:
    """Inverse of `pack_rows`: (B, H) uint16 -> (B, H, width) bool (a view of the 16 unpacked
    bits per row; unpacking the flat array is ~10x faster than along a short axis)."""
    bits = np.unpackbits(np.ascontiguousarray(rows, "<u2").view(np.uint8), bitorder="little").view(bool)
    return bits.reshape(*rows.shape, 16)[..., :width]


@lru_cache(maxsize=16)
def _row_neighbours(length: int, h: int) -> tuple[np.ndarray, np.ndarray]:
    """For a flattened (..., h) array of packed rows: all-ones uint16 where row j may pass its
    cells to row j+1 (it is not a last row), and where row j+1 may pass them to row j."""
    row = np.tile(np.arange(h), length // h)
    ones = np.uint16(0xFFFF)
    return np.where(row[:-1] < h - 1, ones, 0).astype(np.uint16), np.where(row[1:] > 0, ones, 0).astype(np.uint16)


def spread(rows: np.ndarray) -> np.ndarray:
    """Packed cells (..., H) uint16 -> their packed 4-neighbours (one BFS layer, unmasked).
    Rows of the flattened batch, masked at each level's first and last row: long contiguous
    loops rather than one short loop per level."""
    flat = rows.reshape(-1)
    to_next, to_previous = _row_neighbours(len(flat), rows.shape[-1])
    out = flat + flat                # flat << 1: numpy adds uint16 in SIMD, it does not shift
    out |= flat >> 1
    out[1:] |= flat[:-1] & to_next
    out[:-1] |= flat[1:] & to_previous
    return out.reshape(rows.shape)


def distances(passable: np.ndarray, sources: np.ndarray, limit: int | None = None) -> np.ndarray:
    """Shortest 4-connected path lengths from the nearest source to every cell, for a batch.

    passable, sources: (B, H, W) bool. Returns (B, H, W) int32; UNREACHABLE where no path, and,
    given `limit`, where the path is longer than `limit` (a caller that only compares distances
    with a bound stops the search there, where a maze's farthest cells lie dozens of steps out).
    Breadth-first frontier expansion on bit-packed rows ((B, H) uint16), all levels at once;
    each cell's distance is recorded bit by bit in packed bit-planes, unpacked once at the end.
    """
    width = passable.shape[-1]
    frontier = pack_rows(sources & passable)
    open_rows = pack_rows(passable)
    unseen = open_rows & ~frontier             # passable cells not reached yet
    planes: list[np.ndarray] = []
    d = 0
    while frontier.any():
        if limit is not None and d > limit:
            unseen |= frontier                  # found, but farther than the limit
            break
        for k in range(d.bit_length()):
            if len(planes) <= k:
                planes.append(np.zeros_like(frontier))
            if (d >> k) & 1:
                planes[k] |= frontier
        frontier = spread(frontier)
        frontier &= unseen
        unseen ^= frontier
        d += 1
    seen = open_rows & ~unseen             # reached
    # Assemble the distances in the unpacked 16-bit rows, in the smallest integer that holds them
    # (uint8 on a 13x13 grid), then widen once: per-plane int32 arithmetic on strided views of
    # the grid took most of the time.
    rows = (*seen.shape, 16)
    value = np.zeros(rows, np.uint8 if len(planes) <= 8 else np.uint16).reshape(-1)
    for k, plane in enumerate(planes):
        bits = np.unpackbits(np.ascontiguousarray(plane, "<u2").view(np.uint8), bitorder="little")
        if value.dtype != bits.dtype:
            bits = bits.astype(value.dtype)
        np.left_shift(bits, k, out=bits)
        value |= bits
    # Widen, and OR UNREACHABLE into the cells never reached (their value is 0): a `where`
    # mixing uint8 and int32 took twice as long.
    dist = value.reshape(rows)[..., :width].astype(np.int32)
    unreached = np.unpackbits(np.ascontiguousarray(~seen, "<u2").view(np.uint8), bitorder="little")
    unreached = unreached.reshape(rows)[..., :width].astype(np.int32)
    unreached *= UNREACHABLE
    dist |= unreached
    return dist


def within(passable: np.ndarray, sources: np.ndarray, steps: int) -> np.ndarray:
    """(B, H, W) bool: the cells at most `steps` 4-connected steps from a source, through
    `passable` (what `distances(...) <= steps` says, without recording any distance)."""
    frontier = pack_rows(sources & passable)
    unseen = pack_rows(passable) & ~frontier
    seen = frontier.copy()
    for _ in range(steps):
        frontier = spread(frontier)
        frontier &= unseen
        if not frontier.any():
            break
        unseen ^= frontier
        seen |= frontier
    return unpack_rows(seen, passable.shape[-1])


def passable(grid: np.ndarray, blocking: tuple[str, ...] = ("wall",)) -> np.ndarray:
    return passable_table(blocking)[grid[..., 0]]


def on_a_shortest_path(dist_from_a: np.ndarray, dist_from_b: np.ndarray, a_to_b: np.ndarray) -> np.ndarray:
    """(B, H, W) bool: cells lying on some shortest path between a and b (given both BFS maps)."""
    return (dist_from_a.astype(np.int64) + dist_from_b) == np.asarray(a_to_b)[:, None, None]


def apart_from_both(dist_a: np.ndarray, dist_b: np.ndarray, a_to_b: np.ndarray) -> np.ndarray:
    """(B, H, W) bool: start cells from which no shortest path to a passes b and no shortest path
    to b passes a. Interior cells of a shortest a-b path always qualify, so for goals at least two
    steps apart the set is never empty: held-out generators place both goals, then the agent."""
    a_to_b = np.asarray(a_to_b, np.int64)[:, None, None]
    reach = (dist_a < UNREACHABLE) & (dist_b < UNREACHABLE)
    return reach & (dist_a + a_to_b != dist_b) & (dist_b + a_to_b != dist_a)


def descend(dist: np.ndarray, agent: np.ndarray, which: np.ndarray | None = None) -> np.ndarray:
    """The action that moves each agent to the neighbour with the smallest distance (ties: lowest
    action index); STAY on a source or where no neighbour is closer. An agent standing on a cell
    that is impassable in `dist` (an object the path routes around) still steps off it.
    `dist` (n, H, W); or (n, k, H, W) with `which` (n,) choosing each level's map, which reads
    the five cells needed instead of copying whole maps."""
    n = len(agent)
    h, w = dist.shape[-2:]
    if n == 1:  # a plain env: a dozen numpy calls cost more than this arithmetic
        row, col = agent[0].tolist()
        values, base = dist.reshape(-1), (0 if which is None else int(which[0])) * h * w
        here = values.item(base + row * w + col)
        around = [values.item(base + cell) for cell in _neighbour_lists(h, w)[row * w + col]]
        best = min(around)
        stay = here == 0 or best >= min(here, UNREACHABLE)
        return np.array([STAY if stay else around.index(best)])
    level = (np.arange(n) if which is None else np.arange(n) * dist.shape[1] + which) * (h * w)
    cell_here = cell_index(agent, w)
    values = dist.reshape(-1)
    around = _neighbour_cells(h, w).take(cell_here, axis=1)                        # (4, n)
    around += level
    d = values.take(around)
    here = values.take(level + cell_here)
    if n < 256:
        best, action = d.min(axis=0), d.argmin(axis=0)
    else:  # the first smallest of the four by nine operations along the batch: a min and an
        # argmin over the four cost more on a large batch (-30% at 1024)
        best, action = d[0], np.zeros(n, np.int64)
        for a in range(1, 4):
            closer = d[a] < best
            action[closer] = a
            best = np.minimum(best, d[a])
    stay = (here == 0) | (best >= np.minimum(here, UNREACHABLE))
    return np.where(stay, STAY, action)


@lru_cache(maxsize=8)
def _neighbour_cells(h: int, w: int) -> np.ndarray:
    """(4, h*w): the flat index of each cell's up, right, down and left neighbour, clipped at the
    grid's edge (a table read instead of computing and clipping neighbours every call)."""
    rows, cols = np.divmod(np.arange(h * w), w)
    up_right_down_left = MOVES[:4, :, None]
    r = np.clip(rows + up_right_down_left[:, 0], 0, h - 1)
    c = np.clip(cols + up_right_down_left[:, 1], 0, w - 1)
    return r * w + c


@lru_cache(maxsize=8)
def _neighbour_lists(h: int, w: int) -> list[list[int]]:
    """`_neighbour_cells` as a list per cell, for plain Python reads."""
    return _neighbour_cells(h, w).T.tolist()


@lru_cache(maxsize=8)
def _may_spread(n: int, h: int, w: int) -> tuple[np.ndarray, ...]:
    """Flat (n*h*w,) masks of the cells that have a neighbour down, up, right, left in their level."""
    rows = np.tile(np.repeat(np.arange(h), w), n)
    cols = np.tile(np.arange(w), n * h)
    return rows < h - 1, rows > 0, cols < w - 1, cols > 0


def grow(mask: np.ndarray, diagonal: bool = False) -> np.ndarray:
    """(n, H, W) bool: the cells of `mask` and their 4 neighbours (8 with `diagonal`).
    Shifts of the flattened batch (long contiguous loops: ~8x faster than shifting (n, H, W)
    slices), masked so that nothing spreads across a row or level boundary."""
    n, h, w = mask.shape
    down, up, right, left = _may_spread(n, h, w)
    flat = mask.reshape(-1)
    out = flat.copy()
    out[w:] |= flat[:-w] & down[:-w]
    out[:-w] |= flat[w:] & up[w:]
    source = out.copy() if diagonal else flat
    out[1:] |= source[:-1] & right[:-1]
    out[:-1] |= source[1:] & left[1:]
    return out.reshape(n, h, w)


def neighbour_counts(mask: np.ndarray) -> np.ndarray:
    """(n, H, W) int8: how many of each cell's 4 neighbours are in `mask`. Flat shifts masked at
    row and level boundaries, as `grow` (3x faster than adding shifted (n, H, W) slices)."""
    n, h, w = mask.shape
    down, up, right, left = _may_spread(n, h, w)
    flat = np.ascontiguousarray(mask).reshape(-1)
    out = np.zeros(flat.size, np.int8)
    passed = np.empty(flat.size, bool)
    passed_int = passed.view(np.int8)
    shifts = ((w, down), (-w, up), (1, right), (-1, left))   # cell i counts cell i - k if allowed
    for k, allowed in shifts:
        here, there = (slice(k, None), slice(None, -k)) if k > 0 else (slice(None, k), slice(-k, None))
        np.logical_and(flat[there], allowed[there], out=passed[here])
        out[here] += passed_int[here]
    return out.reshape(n, h, w)


@lru_cache(maxsize=8)
def inventory_rows(item: bytes) -> np.ndarray:
    """(SIZE - 1, SIZE - 2, 3): row k is the top wall's inner cells showing k items."""
    shown = np.arange(SIZE - 1)[:, None] > np.arange(SIZE - 2)[None, :]
    return np.where(shown[..., None], np.frombuffer(item, np.uint8), cell("wall", "grey")).astype(np.uint8)


@jit
def draw_inventory_row(grid, rows, count):
    """Row 0 (the top wall) of one level's grid (H, W, 3) shows what its agent carries, inside a
    kernel: `rows` is `inventory_rows(item)`, and cells (0, 1), (0, 2), ... show one item per
    `count` (up to SIZE - 2), a grey wall elsewhere, so a level carrying nothing shows a plain
    wall."""
    shown = rows[min(count, SIZE - 2)]
    for col in range(1, SIZE - 1):
        put_cell(grid, 0, col, shown[col - 1])


# ---------------------------------------------------------------------------------------------
# Observation and rendering

AGENT_CODE = cell("agent", "white")
_CELL = np.dtype("V3")


def observe(state: dict, out: np.ndarray | None = None, rows: np.ndarray | None = None) -> np.ndarray:
    """The symbolic observation: the grid with the agent drawn on top (written into `out` if
    given); `rows`, an index array, restricts it to those levels."""
    grid, agent = state["grid"], state["agent"]
    if rows is not None:
        grid, agent = grid[rows], agent[rows]
    if out is None:
        out = grid if rows is not None else grid.copy()   # indexing by rows made a copy already
    else:
        np.copyto(out, grid)
    return draw_agents(out, agent)


def draw_agents(grid: np.ndarray, agent: np.ndarray) -> np.ndarray:
    """Draw each level's agent (n, 2) on its grid (n, H, W, 3), in place; returns the grid."""
    _draw_agents(grid, agent)
    return grid


@jit
def _draw_agents(grid, agent):
    for i in range(len(agent)):
        put_cell(grid[i], agent[i, 0], agent[i, 1], AGENT_CODE)


def put_cells(grid: np.ndarray, pos: np.ndarray, code: np.ndarray) -> None:
    """Write the cell code (3,) at pos (n, 2) in each level of a C-contiguous grid (n, H, W, 3)."""
    put_flat(grid, flat_index(grid.shape, pos), code)


def put_flat(grid: np.ndarray, cells: np.ndarray, code: np.ndarray) -> None:
    """Write the cell code (3,) at flat cell indices (into grid.reshape(-1, 3)) of a C-contiguous
    grid (n, H, W, 3), with one scatter; or, given codes of shape (*cells.shape, 3), each cell
    its own code."""
    if code.ndim == 1:
        items = _cell_item(bytes(code))
    else:
        items = np.ascontiguousarray(code, np.uint8).view(_CELL)
    _cells_of(grid, "put_flat").put(cells, items)


def put_from_table(grid: np.ndarray, cells: np.ndarray, table: np.ndarray, which: np.ndarray) -> None:
    """Write the cell codes table[which] at flat cell indices `cells` (of which's shape) of a
    C-contiguous grid (n, H, W, 3); `table` (k, 3) uint8. Gathered and scattered as 3-byte items:
    indexing the table's rows cost 3x more than the whole write (SpuriousCue's objects)."""
    items = np.ascontiguousarray(table, np.uint8).view(_CELL).reshape(-1).take(which)
    _cells_of(grid, "put_from_table").put(cells, items)


def _cells_of(grid: np.ndarray, caller: str) -> np.ndarray:
    """A C-contiguous grid (n, H, W, 3) seen as a flat array of 3-byte cells (a view)."""
    if not grid.flags.c_contiguous:
        raise ValueError(f"{caller} needs a C-contiguous grid")
    return grid.reshape(-1).view(_CELL)


@lru_cache(maxsize=256)
def _cell_item(code: bytes) -> np.ndarray:
    return np.frombuffer(code, _CELL)


TILE = 16
_RGB = {
    "black": (0, 0, 0), "red": (230, 40, 40), "green": (40, 200, 60), "blue": (50, 100, 240),
    "purple": (160, 60, 220), "yellow": (245, 215, 30), "grey": (120, 120, 120),
    "orange": (255, 140, 0), "white": (245, 245, 245), "brown": (140, 90, 40),
}


def _shape_mask(obj: str) -> np.ndarray:
    """A TILE x TILE bool silhouette per object type, so shapes differ as well as colours."""
    y, x = (np.mgrid[0:TILE, 0:TILE] + 0.5) / TILE - 0.5                # centred, in [-0.5, 0.5]
    r = np.hypot(x, y)
    box = lambda a: (np.abs(x) <= a) & (np.abs(y) <= a)                  # noqa: E731
    shapes = {
        "empty": np.zeros_like(r, bool),
        "wall": np.ones_like(r, bool),
        "agent": (y <= 0.38) & (np.abs(x) <= (0.38 - y) * 0.55) & (y >= -0.38),  # triangle
        "door": box(0.44) & ~((np.abs(x) <= 0.3) & (y >= -0.3)) | ((np.abs(x - 0.18) < 0.06) & (np.abs(y) < 0.06)),
        "ball": r <= 0.32,
        "box": box(0.36) & ~box(0.24),
        "coin": (r <= 0.26) & ~((np.abs(x) < 0.05) & (np.abs(y) < 0.16)),
        "cheese": (y >= -0.3) & (y <= 0.3) & (x >= -0.35) & (x <= 0.35) & (y >= x * 0.85 - 0.3) & ~((np.hypot(x - 0.1, y - 0.12) < 0.07)),
        "dish": (np.abs(y - 0.1) <= 0.1) & (np.abs(x) <= 0.42) | ((np.abs(y - 0.22) <= 0.04) & (np.abs(x) <= 0.2)),
        "key": (np.hypot(x + 0.22, y) <= 0.16) & (np.hypot(x + 0.22, y) >= 0.07) | ((np.abs(y) <= 0.05) & (x >= -0.08) & (x <= 0.38)) | ((x >= 0.22) & (x <= 0.3) & (y >= 0) & (y <= 0.16)),
        "chest": (box(0.38) & (np.abs(y) <= 0.28)) & ~((np.abs(y + 0.02) < 0.03) & (np.abs(x) < 0.36)) | ((np.abs(x) < 0.06) & (np.abs(y) < 0.08)),
        "apple": (np.hypot(x, y - 0.06) <= 0.3) | ((np.abs(x - 0.04) <= 0.03) & (y >= -0.42) & (y <= -0.2)),
        "shield": (np.abs(x) <= 0.32) & (y >= -0.36) & (y <= 0.36 - np.abs(x) * 0.9) & ~((np.abs(x) <= 0.18) & (y >= -0.22) & (y <= 0.2 - np.abs(x))),
        "monster": ((r <= 0.36) & ~(((np.hypot(x + 0.13, y + 0.08)) < 0.07) | (np.hypot(x - 0.13, y + 0.08) < 0.07))) & ~((y > 0.12) & (np.abs(x) < 0.2) & (y < 0.2)),
        "guide": (np.hypot(x, y + 0.22) <= 0.14) | ((np.abs(x) <= 0.28 - (y + 0.05) * 0.0) & (y >= -0.04) & (y <= 0.4) & (np.abs(x) <= 0.08 + (y + 0.04) * 0.6)),
        "beacon": ((np.abs(x) + np.abs(y)) <= 0.4) & ~((np.abs(x) + np.abs(y)) <= 0.2),
        "lava": ((np.sin((x + 0.5) * 4 * np.pi) * 0.12 + y) % 0.33) < 0.2,
        "cue": (r >= 0.3) & (r <= 0.42),
    }
    return shapes[obj]


def _tile(obj_idx: int, color_idx: int, state_idx: int) -> np.ndarray:
    tile = np.zeros((TILE, TILE, 3), np.uint8)
    if state_idx == STATE_TO_IDX["marked"]:
        tile[:] = (70, 70, 10)                                          # a lit floor tile
    obj = IDX_TO_OBJECT.get(obj_idx)
    if obj is None:
        return tile
    rgb = np.array(_RGB[IDX_TO_COLOR.get(color_idx, "white")], np.uint8)
    if obj == "agent":
        rgb = np.array((255, 255, 255), np.uint8)
    tile[_shape_mask(obj)] = rgb
    if state_idx == STATE_TO_IDX["active"]:
        tile[[0, 1, -2, -1], :] = (255, 255, 255)                       # a white frame
        tile[:, [0, 1, -2, -1]] = (255, 255, 255)
    elif state_idx == STATE_TO_IDX["used"]:
        tile[::3, ::3] = (0, 0, 0)                                      # dimmed
    if obj != "wall":                                                   # grid lines
        tile[0, :] = np.maximum(tile[0, :], 30)
        tile[:, 0] = np.maximum(tile[:, 0], 30)
    return tile


@lru_cache(maxsize=1)
def tile_table() -> np.ndarray:
    """(n_objects, n_colours, n_states, TILE, TILE, 3) uint8, every cell code pre-rendered."""
    shape = (len(OBJECT_TO_IDX), len(COLOR_TO_IDX), len(STATE_TO_IDX))
    table = np.zeros((*shape, TILE, TILE, 3), np.uint8)
    for o, c, s in np.ndindex(*shape):
        table[o, c, s] = _tile(o, c, s)
    return table


def render_rgb(obs: np.ndarray) -> np.ndarray:
    """Symbolic observation(s) (…, H, W, 3) -> RGB image(s) (…, H*TILE, W*TILE, 3) uint8."""
    table = tile_table()
    o = np.minimum(obs[..., 0], table.shape[0] - 1)
    c = np.minimum(obs[..., 1], table.shape[1] - 1)
    s = np.minimum(obs[..., 2], table.shape[2] - 1)
    tiles = table[o, c, s]                                              # (…, H, W, T, T, 3)
    *lead, h, w = obs.shape[:-1]
    return tiles.swapaxes(-4, -3).reshape(*lead, h * TILE, w * TILE, 3)
