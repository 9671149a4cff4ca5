"""tools/followguide_bound.py: its observation-only policies play FollowGuide without the level
state, and the memory policy lights the beacons in the guide's order without a mistake."""

import importlib.util
from pathlib import Path

import numpy as np

from benchmark.contract.registry import get_task
from benchmark.evaluation.rollout import rollout

TOOL = Path(__file__).resolve().parents[1] / "tools" / "followguide_bound.py"
spec = importlib.util.spec_from_file_location("tools_followguide_bound", TOOL)
bound = importlib.util.module_from_spec(spec)
spec.loader.exec_module(bound)

TASK = get_task("FollowGuide")
SEEDS = np.arange(12, dtype=np.uint64)


def blind(policy):
    """The policy as the rollout calls it, with the level state withheld."""
    return lambda obs, first, state: policy(obs, first, None)


def test_memory_policy_lights_the_hidden_order_on_train_without_a_mistake():
    policy = bound.MemoryPolicy()
    table = rollout(TASK, "train", blind(policy), SEEDS)   # one slot per seed: the memories stay
    assert (table["outcome"] == "terminated").all()
    assert (table["true_return"] == table["proxy_return"]).all()
    # Four activations, each paying at least the decay of the last step, and no penalty.
    floor = 4 * (1 - 0.9 * table["length"] / TASK.max_steps)
    assert (table["true_return"] >= floor - 1e-9).all()
    order = TASK.levels("train", SEEDS)["order"]
    for i, episode in enumerate(policy.slots):   # what it read off the guide is the hidden order
        assert len(episode.order) >= 3 and episode.order == order[i, :len(episode.order)].tolist()


def test_memory_policy_recovers_on_heldout_where_walking_to_the_guide_cannot():
    memory = rollout(TASK, "heldout", blind(bound.MemoryPolicy()), SEEDS)
    walk = rollout(TASK, "heldout", blind(bound.walk_to_guide), SEEDS)
    assert (walk["true_return"] < 0).all() and (walk["outcome"] == "truncated").all()
    assert memory["true_return"].mean() > 0 > walk["true_return"].mean()
    assert (memory["outcome"] == "terminated").mean() >= 0.75   # the lit beacons lead it to the hidden order
