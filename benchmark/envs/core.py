"""The batched core: B level slots that step together.

The single gymnasium env, the native vector env and the scorer's rollout are all thin faces of
this one class, so there is exactly one implementation of a task's dynamics in use anywhere.
"""

from __future__ import annotations

import numpy as np

from benchmark import grid as G
from benchmark.contract.task import Task, check_split


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
        self._every_slot = np.arange(num)

    def load(self, slots: np.ndarray, seeds) -> None:
        """Start new episodes in `slots` on the levels of `seeds` (an array or a list)."""
        self.load_levels(slots, self.task.levels(self.split, seeds))

    def load_levels(self, slots: np.ndarray, levels: dict, owned: bool = False) -> None:
        """Start new episodes in `slots` on already generated `levels` (a batched state dict).
        `owned`: the caller gives the levels away and never reads them again, so a load of every
        slot in order takes their arrays instead of copying them (a one-step task loads a whole
        batch at every step)."""
        slots = np.asarray(slots, np.int64).reshape(-1)
        if len(slots) == 0:
            return
        if self.state is None:
            if len(slots) != self.num:
                raise RuntimeError("the first load must fill every slot")
            self.state = {k: np.array(v)[np.argsort(slots)] for k, v in levels.items()}
        elif len(slots) == self.num and (self.num == 1 or np.array_equal(slots, self._every_slot)):
            for key, value in levels.items():   # every slot in order (one-step tasks): a plain copy
                if owned and takes(value):
                    self.state[key] = value
                else:
                    np.copyto(self.state[key], value)
            slots = slice(None)
        else:
            for key, value in levels.items():
                self.state[key][slots] = value
        self.t[slots] = 0
        self.true_return[slots] = 0.0
        self.proxy_return[slots] = 0.0

    def step(self, actions: np.ndarray):
        """Advance every slot by one action. Returns (true_r, proxy_r, terminated, truncated)."""
        self.t += 1
        # One dtype for the tasks' kernels (numba compiles a kernel once per argument type).
        actions = actions if actions.dtype == np.int64 else actions.astype(np.int64)
        true_r, proxy_r, terminated = self.task.step(self.state, actions, self.t)
        limit = self.state.get("time_limit", self.task.max_steps)   # a level may set its own
        if self.num == 1:  # a plain env: item arithmetic costs a quarter of numpy's four calls
            limit = limit[0] if isinstance(limit, np.ndarray) else limit
            truncated = np.array([self.t[0] >= limit and not terminated[0]])
            self.true_return[0] += true_r[0]
            self.proxy_return[0] += proxy_r[0]
            return true_r, proxy_r, terminated, truncated
        truncated = (self.t >= limit) & ~terminated
        self.true_return += true_r
        self.proxy_return += proxy_r
        return true_r, proxy_r, terminated, truncated

    def observe(self, out: np.ndarray | None = None) -> np.ndarray:
        """The current observations, written into `out` or the core's own buffer (copy to keep)."""
        return G.observe(self.state, out=self.obs if out is None else out)


def takes(value: np.ndarray) -> bool:
    """Whether a load of owned levels into every slot, in order, takes this array of theirs
    rather than copying it (and so drops the array it replaces)."""
    return value.flags.c_contiguous and value.flags.writeable


def take(levels: dict, index) -> dict:
    """Rows `index` of a batched state dict."""
    return {key: value[index] for key, value in levels.items()}
