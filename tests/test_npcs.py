"""The tasks' NPCs. MonsterShields' monsters: the chase table is the softmax of the Rewards
section, and a level alone moves its monsters as the batch does, also when they crowd around
the agent (where one monster's move can block another's, which random episodes rarely reach).
FollowGuide's guide: the walk made with the level is the one its step rule walks, at any step."""

import numpy as np
import pytest

from benchmark import grid as G
from benchmark.task import SPLITS, get_task, public_seeds
from tasks import follow_guide as F
from tasks import monster_shields as M


def test_chase_table_is_the_running_sum_of_the_softmax_numerators():
    table = M.chase_table()
    rng = np.random.default_rng(3)
    for monster, agent in rng.integers(1, G.SIZE - 1, size=(200, 2, 2)):
        moves = [(min(max(monster[0] + dr, 1), G.SIZE - 2), min(max(monster[1] + dc, 1), G.SIZE - 2))
                 for dr, dc in G.MOVES]
        dist = np.array([abs(r - agent[0]) + abs(c - agent[1]) for r, c in moves])
        weight = np.exp(-M.BETA * (dist - dist.min()))
        row = table[(monster[0] * G.SIZE + monster[1]) * M.CELLS + agent[0] * G.SIZE + agent[1]]
        np.testing.assert_allclose(row, np.cumsum(weight), rtol=1e-15)


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


def test_a_level_alone_moves_its_monsters_as_the_batch_does():
    rng = np.random.default_rng(5)
    state = crowded_states(300, rng)
    before = state["monsters"].copy()
    t = np.full(300, 7)
    alone = [{key: value[i:i + 1].copy() for key, value in state.items()} for i in range(300)]
    M._move_monsters(state, t)
    for i, level in enumerate(alone):
        M._move_monsters(level, t[i:i + 1])
        np.testing.assert_array_equal(level["monsters"][0], state["monsters"][i], err_msg=f"level {i}")
    moved = (state["monsters"] != before).any(axis=2)
    assert moved[state["alive"]].mean() > 0.5 and not moved[~state["alive"]].any()
    cells = G.cell_index(state["monsters"])
    for i in range(300):   # live monsters still hold distinct cells
        live = cells[i][state["alive"][i]]
        assert len(set(live.tolist())) == len(live)


@pytest.mark.parametrize("split", SPLITS)
def test_the_guide_walk_made_with_the_level_is_the_walk_of_its_step_rule(split):
    task = get_task("FollowGuide")
    state = task.levels(split, public_seeds(task, split, 64))
    guide, heading = state["guide"].copy(), np.zeros(64, np.int64)
    for t in range(1, 3 * task.max_steps):   # past the episode's end: a rollout's finished slots
        F._move_guide(guide, heading, state)
        F._place_guide(state, np.full(64, t))
        np.testing.assert_array_equal(state["guide"], guide, err_msg=f"step {t}")
        alone = {key: value[5:6] for key, value in state.items()}
        F._place_guide(alone, np.array([t]))
        np.testing.assert_array_equal(alone["guide"][0], guide[5], err_msg=f"step {t}, a level alone")
