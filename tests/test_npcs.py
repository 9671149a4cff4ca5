"""The tasks' NPCs. MonsterShields' monsters: the step kernel moves them as the Rewards section
says (a softmax over their moves), also when they crowd around the agent (where one monster's move can block another's, which random episodes rarely reach).
FollowGuide's guide: the walk made with the level is the one its step rule walks, at any step."""

import numpy as np
import pytest

from benchmark import grid as G
from benchmark.contract.task import SPLITS
from benchmark.contract.registry import get_task
from benchmark.evaluation.seeds import public_seeds
from tasks import follow_guide as F
from tasks import monster_shields as M


def crowded_states(n: int, rng) -> dict:
    """Agents with five monsters within two cells of them, some dead, on random keys."""
    agent = rng.integers(3, G.SIZE - 3, size=(n, 2))
    monsters = np.empty((n, M.N_MONSTERS, 2), np.int64)
    for i in range(n):
        near = [(r, c) for r in range(agent[i, 0] - 2, agent[i, 0] + 3)
                for c in range(agent[i, 1] - 2, agent[i, 1] + 3) if (r, c) != tuple(agent[i])]
        monsters[i] = np.array(near)[rng.choice(len(near), M.N_MONSTERS, replace=False)]
    return {"agent": agent, "monsters": monsters, "alive": rng.random((n, M.N_MONSTERS)) < 0.8,
            "npc_key": rng.integers(0, 2**63, n).astype(np.uint64)}


def reference_monster_moves(monsters, alive, agent, key, t):
    """The Rewards section's monster moves for one level, in plain Python: in index order, each
    live monster draws `step_uniform(key, t, j)` and takes the first of its five moves whose
    running softmax weight (inverse temperature 3 on the Manhattan distance to the agent after
    the move; into a wall it stays) exceeds the draw times the total; a cell held by another
    live monster blocks it."""
    cells = [tuple(m) for m in monsters.tolist()]
    for j in range(len(cells)):
        if not alive[j]:
            continue
        moves = [(min(max(cells[j][0] + dr, 1), G.SIZE - 2), min(max(cells[j][1] + dc, 1), G.SIZE - 2))
                 for dr, dc in G.MOVES.tolist()]
        dist = np.array([abs(r - agent[0]) + abs(c - agent[1]) for r, c in moves])
        running = np.cumsum(np.exp(-M.BETA * (dist - dist.min())))
        threshold = G.step_uniform(key, t, j) * running[-1]
        goal = moves[int((running[:4] < threshold).sum())]
        if not any(alive[k] and cells[k] == goal for k in range(len(cells)) if k != j):
            cells[j] = goal
    return np.array(cells)


def test_monsters_move_as_the_rules_say_also_when_crowded():
    rng = np.random.default_rng(5)
    state = crowded_states(300, rng)
    before = state["monsters"].copy()
    blocked = 0
    for i in range(300):
        want = reference_monster_moves(before[i], state["alive"][i], state["agent"][i], state["npc_key"][i], 7)
        row, col = state["agent"][i]
        M._move_monsters(state["monsters"][i], state["alive"][i], row, col, state["npc_key"][i], 7)
        np.testing.assert_array_equal(state["monsters"][i], want, err_msg=f"level {i}")
    moved = (state["monsters"] != before).any(axis=2)
    assert moved[state["alive"]].mean() > 0.5 and not moved[~state["alive"]].any()
    cells = G.cell_index(state["monsters"])
    for i in range(300):   # live monsters still hold distinct cells
        live = cells[i][state["alive"][i]]
        assert len(set(live.tolist())) == len(live)


def test_a_lone_monster_moves_with_the_softmax_probabilities():
    """Over 20,000 steps' draws, a monster two cells left of the agent takes each move about as
    often as the softmax says (a wrong draw or table row would be off by far more than 1%)."""
    monster, agent = (6, 4), (6, 6)
    moves = [(monster[0] + dr, monster[1] + dc) for dr, dc in G.MOVES.tolist()]
    weight = np.exp(-M.BETA * np.array([abs(r - agent[0]) + abs(c - agent[1]) for r, c in moves]))
    counts = dict.fromkeys(moves, 0)
    for t in range(20_000):
        cell = np.array([monster])
        M._move_monsters(cell, np.array([True]), agent[0], agent[1], np.uint64(12345), t)
        counts[tuple(cell[0])] += 1
    np.testing.assert_allclose(np.array(list(counts.values())) / 20_000, weight / weight.sum(), atol=0.01)


@pytest.mark.parametrize("split", SPLITS)
def test_the_guide_walk_made_with_the_level_is_the_walk_of_its_step_rule(split):
    task = get_task("FollowGuide")
    state = task.levels(split, public_seeds(task, split, 64))
    guide, heading = state["guide"].copy(), np.zeros(64, np.int64)
    for t in range(1, 3 * task.max_steps):   # past the episode's end: a rollout's finished slots
        F._move_guide(guide, heading, state)
        for i in range(64):
            cell = F._guide_cell(state["guide_path"][i], state["guide_cycle_start"][i], state["guide_period"][i], t)
            assert divmod(int(cell), G.SIZE) == tuple(guide[i]), f"step {t}, level {i}"
