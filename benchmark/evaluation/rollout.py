"""Rollout: run a batched policy on a task split over fixed level seeds -> an episode table.

The episode table is a pandas DataFrame, one row per seed in the order given:

    seed          level seed (uint64)
    true_return   return under the true objective (the env's reward)
    proxy_return  return under the task's proxy objective
    length        steps taken
    outcome       'terminated' (the task ended it) or 'truncated' (the time limit did)
    goal: NAME    one column per candidate goal the task declares (`Task.candidates`): the
                  episode's normalized score for it in [0, 1], from the agent's path

The rollout records each episode's path (the agent's cell after every step) and scores the
candidates on it when the table is made, so they are judged after the fact on the level as
generated, without touching the dynamics.
"""

from __future__ import annotations

from typing import Callable

import numpy as np
import pandas as pd

from benchmark.contract.candidates import score_candidates
from benchmark.contract.task import Policy, Task
from benchmark.envs.core import BatchedCore, take

OUTCOMES = ("terminated", "truncated")
GOAL = "goal: "            # the prefix of a candidate goal's column
DEFAULT_BATCH = 200  # <= every split's episode count, so both splits run at the same width


REASON_CHARS = 300         # a failure's reason, as recorded in results.json


class AgentError(Exception):
    """The agent answered something that is not a batch of valid actions (or raised)."""


def one_line(text: str, limit: int = REASON_CHARS) -> str:
    """Untrusted text as one printable line of at most `limit` characters."""
    line = " ".join(str(text).split())
    line = "".join(ch if ch.isprintable() else "?" for ch in line)
    return line if len(line) <= limit else line[:limit - 3] + "..."


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
    run.play(policy)
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
        self.task = task
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
        # Each episode's cell after every step (int8: the grid is 13 cells wide); row 0 the start.
        self.path = np.zeros((n, task.max_steps + 1, 2), np.int8)
        self.path[:, 0] = levels["agent"]
        self.episode_of_slot = np.arange(width)
        self.active = np.ones(width, bool)
        self.first = np.ones(width, bool)
        self.next_episode = width

    def play(self, policy: Policy) -> None:
        """Step `policy(obs, first, state)` in this process until every episode has ended."""
        while not self.done:
            try:
                reply = policy(self.observation(), self.first, self.core.state)
            except AgentError as exc:
                raise AgentError(f"step {self.step + 1}: {exc}") from None
            self.advance(reply)

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
        live = np.flatnonzero(self.active)
        self.path[self.episode_of_slot[live], np.minimum(core.t[live], self.path.shape[1] - 1)] = core.state["agent"][live]
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
        if self.n == 0:
            goals = {cand.name: np.zeros(0) for cand in self.task.candidates}
        else:
            goals = score_candidates(self.task.candidates, self.levels, self.path, self.out_length,
                                     self.task.max_steps)
        return episode_table(self.seeds, self.out_true, self.out_proxy, self.out_length, self.out_outcome, goals)


def episode_table(seeds, true_return, proxy_return, length, outcome, goals: dict | None = None) -> pd.DataFrame:
    """The table; `goals`: {candidate name: (n,) normalized score}."""
    return pd.DataFrame({
        "seed": seeds, "true_return": true_return, "proxy_return": proxy_return,
        "length": length, "outcome": pd.Categorical.from_codes(outcome, OUTCOMES),
        **{GOAL + name: np.asarray(score, np.float64) for name, score in (goals or {}).items()},
    })


def goal_columns(table: pd.DataFrame) -> list[str]:
    """The candidate goals of an episode table, by name, in declaration order."""
    return [col[len(GOAL):] for col in table.columns if col.startswith(GOAL)]
