"""The batched core: B level slots that step together.

The single gymnasium env, the native vector env and the scorer's rollout are all thin faces of
this one class, so there is exactly one implementation of a task's dynamics in use anywhere.
"""

from __future__ import annotations

import numpy as np

from . import grid as G
from .task import Task, check_split


class BatchedCore:
    """Holds B levels of one task split; `load` puts levels into slots, `step` advances all."""

    def __init__(self, task: Task, split: str, num: int):
        check_split(split)
        if num < 1:
            raise ValueError(f"batch size must be >= 1, got {num}")
        self.task, self.split, self.num = task, split, num
        self.state: dict | None = None
        self.t = np.zeros(num, np.int64)
        self.true_return = np.zeros(num)
        self.proxy_return = np.zeros(num)
        self.obs = np.empty((num, G.SIZE, G.SIZE, 3), np.uint8)

    def load(self, slots: np.ndarray, seeds: np.ndarray) -> None:
        """Start new episodes in `slots` on the levels of `seeds`."""
        slots = np.asarray(slots, np.int64).reshape(-1)
        if len(slots) == 0:
            return
        levels = self.task.levels(self.split, seeds)
        if self.state is None:
            if len(slots) != self.num:
                raise RuntimeError("the first load must fill every slot")
            self.state = {k: np.array(v)[np.argsort(slots)] for k, v in levels.items()}
        else:
            for key, value in levels.items():
                self.state[key][slots] = value
        self.t[slots] = 0
        self.true_return[slots] = 0.0
        self.proxy_return[slots] = 0.0

    def step(self, actions: np.ndarray):
        """Advance every slot by one action. Returns (true_r, proxy_r, terminated, truncated)."""
        self.t += 1
        true_r, proxy_r, terminated = self.task.step(self.state, actions, self.t)
        truncated = (self.t >= self.task.max_steps) & ~terminated
        self.true_return += true_r
        self.proxy_return += proxy_r
        return true_r, proxy_r, terminated, truncated

    def observe(self) -> np.ndarray:
        """The current observations, written into the core's own buffer (copy to keep)."""
        return G.observe(self.state, out=self.obs)
