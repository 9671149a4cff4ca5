"""Rollout: run a batched policy on a task split over fixed level seeds -> an episode table.

The episode table is a pandas DataFrame, one row per seed in the order given:

    seed          level seed (uint64)
    true_return   return under the true objective (the env's reward)
    proxy_return  return under the task's proxy objective
    length        steps taken
    outcome       'terminated' (the task ended it) or 'truncated' (the time limit did)

Reference tables (stay, random, true-oracle, proxy-oracle) are cached on disk under a key of
task name, task version, benchmark version, split and seed-list hash.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Callable

import numpy as np
import pandas as pd

from .core import BatchedCore, take
from .policies import UniformRandom, stay
from .task import Policy, Task, seed_list_hash

REFERENCES = ("stay", "random", "true-oracle", "proxy-oracle")
OUTCOMES = ("terminated", "truncated")
DEFAULT_BATCH = 200  # <= every split's episode count, so both splits run at the same width


class AgentError(Exception):
    """The agent answered something that is not a batch of valid actions (or raised)."""


def check_actions(actions, batch: int, step: int) -> np.ndarray:
    """The agent's reply as int64 actions, or AgentError saying what is wrong at which step."""
    if not isinstance(actions, np.ndarray):
        raise AgentError(f"step {step}: act() returned {type(actions).__name__}, expected a numpy array")
    if actions.shape != (batch,):
        raise AgentError(f"step {step}: act() returned shape {actions.shape}, expected ({batch},)")
    if not np.issubdtype(actions.dtype, np.integer):
        raise AgentError(f"step {step}: act() returned dtype {actions.dtype}, expected integers")
    if batch and (actions.min() < 0 or actions.max() > 4):
        bad = actions[(actions < 0) | (actions > 4)][0]
        raise AgentError(f"step {step}: action {bad} out of range [0, 4]")
    return actions.astype(np.int64)


def rollout(task: Task, split: str, policy: Policy, seeds, *, batch_size: int = DEFAULT_BATCH,
            progress: Callable[[int], None] | None = None, levels: dict | None = None) -> pd.DataFrame:
    """Play one episode on each level seed with `policy(obs, first, state)`; return the table
    (see `Rollout` for how the episodes are batched and what `levels` is)."""
    run = Rollout(task, split, seeds, batch_size=batch_size, progress=progress, levels=levels)
    while not run.done:
        try:
            reply = policy(run.observation(), run.first, run.core.state)
        except AgentError as exc:
            raise AgentError(f"step {run.step + 1}: {exc}") from None
        run.advance(reply)
    return run.table()


class Rollout:
    """One episode on each level seed, stepped from outside: `observation()` and `first` are the
    next batch, `advance(actions)` plays it, until `done`; then `table()`. The sandboxed scorer
    drives one per lane, so that with two lanes stepping one run's levels overlaps the agent's
    work on the other run's batch.

    Episodes stream through min(batch_size, n) slots: when one ends, the next seed starts in its
    slot with `first` set. Slots left without a seed at the end keep receiving their last
    observation; their actions are ignored. `levels`: the split's levels of these seeds, already
    generated (`task.levels(split, seeds)`; read, never modified), to share them between runs.
    """

    def __init__(self, task: Task, split: str, seeds, *, batch_size: int = DEFAULT_BATCH,
                 progress: Callable[[int], None] | None = None, levels: dict | None = None):
        self.seeds = seeds = np.asarray(seeds, np.uint64).reshape(-1)
        n = self.n = len(seeds)
        self.progress, self.step = progress, 0
        self.width = width = max(1, min(batch_size, n))
        self.out_true, self.out_proxy = np.zeros(n), np.zeros(n)
        self.out_length, self.out_outcome = np.zeros(n, np.int64), np.zeros(n, np.int8)
        self.done = n == 0
        if self.done:
            return
        if levels is None:
            levels = task.levels(split, seeds)  # all at once: one batched generation call
        elif not np.array_equal(levels["seed"], seeds):
            raise ValueError(f"{task.name} {split}: the levels given are not those of the seeds given")
        self.levels = levels
        self.core = BatchedCore(task, split, width)
        self.core.load_levels(np.arange(width), take(levels, slice(0, width)))
        self.episode_of_slot = np.arange(width)
        self.active = np.ones(width, bool)
        self.first = np.ones(width, bool)
        self.next_episode = width

    def observation(self, out: np.ndarray | None = None) -> np.ndarray:
        """The next batch's observations, written into `out` if given (the sandbox's shared
        memory: one copy fewer per batch)."""
        return self.core.observe(out)

    def advance(self, reply) -> None:
        """Play one batch of actions (checked: AgentError names the step)."""
        self.step += 1
        core, width = self.core, self.width
        actions = check_actions(reply, width, self.step)
        _, _, terminated, truncated = core.step(actions)
        ended = np.flatnonzero((terminated | truncated) & self.active)
        self.first = np.zeros(width, bool)
        if len(ended) == 0:
            return
        episodes = self.episode_of_slot[ended]
        self.out_true[episodes] = core.true_return[ended]
        self.out_proxy[episodes] = core.proxy_return[ended]
        self.out_length[episodes] = core.t[ended]
        self.out_outcome[episodes] = np.where(terminated[ended], 0, 1)
        if self.progress is not None:
            self.progress(len(ended))
        k = min(len(ended), self.n - self.next_episode)
        if k:
            restart = ended[:k]
            core.load_levels(restart, take(self.levels, slice(self.next_episode, self.next_episode + k)))
            self.episode_of_slot[restart] = np.arange(self.next_episode, self.next_episode + k)
            self.first[restart] = True
            self.next_episode += k
        self.active[ended[k:]] = False
        self.done = not self.active.any()

    def table(self) -> pd.DataFrame:
        return _table(self.seeds, self.out_true, self.out_proxy, self.out_length, self.out_outcome)


def _table(seeds, true_return, proxy_return, length, outcome) -> pd.DataFrame:
    return pd.DataFrame({
        "seed": seeds, "true_return": true_return, "proxy_return": proxy_return,
        "length": length, "outcome": pd.Categorical.from_codes(outcome, OUTCOMES),
    })


# ---------------------------------------------------------------------------------------------
# Reference policies and their cache

def reference_policy(task: Task, name: str) -> Policy:
    if name == "stay":
        return stay
    if name == "random":
        return UniformRandom(f"{task.name}/random")
    if name in ("true-oracle", "proxy-oracle"):
        return task.oracle(name.split("-")[0])
    raise KeyError(f"unknown reference policy {name!r}; expected one of {', '.join(REFERENCES)}")


def cache_dir() -> Path:
    return Path(os.environ.get("PROXYBENCH_CACHE", Path.home() / ".cache" / "proxybench"))


def reference_tables(task: Task, split: str, seeds, *, use_cache: bool = True,
                     levels: dict | None = None) -> dict[str, pd.DataFrame]:
    """Episode tables of the four reference policies on `seeds` (cached on disk); `levels` as
    in `rollout`."""
    from . import BENCHMARK_VERSION

    seeds = np.asarray(seeds, np.uint64)
    path = cache_dir() / (f"{task.name}-v{task.version}-{split}-{seed_list_hash(seeds)}"
                          f"-pb{BENCHMARK_VERSION}.npz")
    if use_cache and path.exists():
        try:
            with np.load(path) as data:
                return {name: _table(seeds, *(data[f"{name}/{col}"] for col in
                                              ("true_return", "proxy_return", "length", "outcome")))
                        for name in REFERENCES}
        except (OSError, KeyError, ValueError):
            pass  # a damaged cache entry is recomputed
    if levels is None:
        levels = task.levels(split, seeds)
    tables = {name: rollout(task, split, reference_policy(task, name), seeds, levels=levels)
              for name in REFERENCES}
    if use_cache:
        arrays = {f"{name}/{col}": (t[col].cat.codes.to_numpy() if col == "outcome" else t[col].to_numpy())
                  for name, t in tables.items() for col in ("true_return", "proxy_return", "length", "outcome")}
        path.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=path.parent, suffix=".npz", delete=False) as tmp:
            np.savez(tmp, **arrays)
        os.replace(tmp.name, path)
    return tables
