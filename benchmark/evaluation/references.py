"""The reference policies that normalize every score, played on the same levels as the agent:
`stay` (does nothing), the task's `true-oracle` and `proxy-oracle` (planners that may read the
level state), and the *chance family*: trivial policies that pursue nothing, of which the best
on each task and split sets the chance level (`random`, uniform over the five actions and
seeded per task; `random-moves`, uniform over the four moves; and each constant action, `stay`
included)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from benchmark.contract.policies import UniformRandom, constant, stay
from benchmark.contract.task import Policy, Task
from benchmark.grid import ACTION_NAMES

from .rollout import rollout

REFERENCES = ("stay", "random", "true-oracle", "proxy-oracle")   # the leaderboard's and the hash's
CHANCE = ("random", "random-moves", "up", "right", "down", "left", "stay")
PLAYED = REFERENCES + tuple(name for name in CHANCE if name not in REFERENCES)


def reference_policy(task: Task, name: str) -> Policy:
    if name == "stay":
        return stay
    if name == "random":
        return UniformRandom(f"{task.name}/random")
    if name == "random-moves":
        return UniformRandom(f"{task.name}/random-moves", actions=4)
    if name in ACTION_NAMES:
        return constant(ACTION_NAMES.index(name))
    if name in ("true-oracle", "proxy-oracle"):
        return task.oracle(name.split("-")[0])
    raise KeyError(f"unknown reference policy {name!r}; expected one of {', '.join(PLAYED)}")


def play_references(task: Task, split: str, seeds, levels: dict | None = None,
                    names: tuple[str, ...] = PLAYED) -> dict[str, pd.DataFrame]:
    """Episode tables of the reference policies `names` (default: every one) on `seeds`, played
    now; `levels` (those of `seeds`, if already made) as in `rollout`."""
    seeds = np.asarray(seeds, np.uint64)
    if levels is None:
        levels = task.levels(split, seeds)
    return {name: rollout(task, split, reference_policy(task, name), seeds, levels=levels) for name in names}
