"""The reference policies that normalize every score: `stay` (does nothing), `random` (uniform
over the five actions, seeded per task), and the task's `true-oracle` and `proxy-oracle`
(planners that may read the level state), played on the same levels as the agent."""

from __future__ import annotations

import numpy as np
import pandas as pd

from benchmark.contract.policies import UniformRandom, stay
from benchmark.contract.task import Policy, Task

from .rollout import rollout

REFERENCES = ("stay", "random", "true-oracle", "proxy-oracle")


def reference_policy(task: Task, name: str) -> Policy:
    if name == "stay":
        return stay
    if name == "random":
        return UniformRandom(f"{task.name}/random")
    if name in ("true-oracle", "proxy-oracle"):
        return task.oracle(name.split("-")[0])
    raise KeyError(f"unknown reference policy {name!r}; expected one of {', '.join(REFERENCES)}")


def play_references(task: Task, split: str, seeds, levels: dict | None = None) -> dict[str, pd.DataFrame]:
    """Episode tables of the four reference policies on `seeds`, played now; `levels` (those of
    `seeds`, if already made) as in `rollout`."""
    seeds = np.asarray(seeds, np.uint64)
    if levels is None:
        levels = task.levels(split, seeds)
    return {name: rollout(task, split, reference_policy(task, name), seeds, levels=levels) for name in REFERENCES}
