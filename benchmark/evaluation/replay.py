"""Replays: what an agent did on chosen levels, step by step, beside what each oracle aimed at.

A replay is made in two passes. First the agent plays as it is scored, in a `LoggedRollout`: a
rollout that also keeps every episode's actions (the sandboxed player drives it as it drives a
scoring run; `record` drives it with an in-process policy). Then `replay_episodes` plays those
episodes again here from their actions alone, which is exact: an episode is a pure function of
its level seed and its actions. This second pass reads the level state before every step: the
observation (what the agent saw) and the cells each objective's oracle heads for
(`Task.targets`), which the agent never sees. Its returns must equal the first pass's, so a replay
cannot show anything but the episode that was played.

Each episode's outcome is its behaviour count: true only, proxy only, both or neither, from its
normalized scores t and p against `stay` and the two oracles on the same level (`scoring`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from benchmark import grid as G
from benchmark.contract.task import OBJECTIVES, Policy, Task
from benchmark.envs.core import BatchedCore

from .rollout import DEFAULT_BATCH, Rollout, check_actions
from .scoring import BEHAVIOURS, behaviour_kinds, episode_scores

# --outcome's words -> the behaviour counts' names
OUTCOME_NAMES = {"true": "true_only", "proxy": "proxy_only", "both": "both", "neither": "neither"}
SCORED_AGAINST = ("stay", "true-oracle", "proxy-oracle")   # the references t and p need


class ReplayError(RuntimeError):
    """A replay cannot be made as asked (no such episodes; the agent failed; the replayed
    episode differs from the played one)."""


@dataclass
class Episode:
    """One episode, frame by frame: frame k is the level before step k + 1 (the last, after the
    last step). `targets[k, j]` (H, W) bool: the cells the oracle of OBJECTIVES[j] heads for at
    frame k; `path[k]`: the agent's cell."""

    task: str
    split: str
    seed: int
    frames: np.ndarray        # (L + 1, H, W, 3) uint8 observations
    targets: np.ndarray       # (L + 1, 2, H, W) bool
    path: np.ndarray          # (L + 1, 2)
    true_return: float
    proxy_return: float
    t: float                  # normalized scores, as scoring computes them
    p: float
    outcome: str              # one of scoring.BEHAVIOURS

    @property
    def length(self) -> int:
        return len(self.frames) - 1


class LoggedRollout(Rollout):
    """A rollout (see `Rollout`) that also keeps each episode's actions: `actions` (n, max_steps)
    int8, STAY past an episode's end."""

    def __init__(self, task: Task, split: str, seeds, **kwargs):
        super().__init__(task, split, seeds, **kwargs)
        self.actions = np.full((self.n, task.max_steps), G.STAY, np.int8)

    def advance(self, reply) -> None:
        actions = check_actions(reply, self.width, self.step + 1)
        live = np.flatnonzero(self.active)
        self.actions[self.episode_of_slot[live], self.core.t[live]] = actions[live]
        super().advance(actions)


def record(task: Task, split: str, seeds, policy: Policy,
           batch_size: int = DEFAULT_BATCH) -> tuple[pd.DataFrame, np.ndarray]:
    """Play `policy(obs, first, state)` in this process (a reference policy, a test's agent):
    the episode table and the actions (n, max_steps)."""
    run = LoggedRollout(task, split, seeds, batch_size=batch_size)
    run.play(policy)
    return run.table(), run.actions


def outcomes(table: pd.DataFrame, refs: dict[str, pd.DataFrame]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(t, p, outcome) per episode of `table`: the normalized scores against the reference tables
    of the same seeds, and the behaviour count each falls in (an array of BEHAVIOURS names)."""
    t, p = episode_scores(table, refs)
    kinds = behaviour_kinds(t, p)
    outcome = np.select([kinds[name] for name in BEHAVIOURS], BEHAVIOURS, default="neither")
    return t, p, outcome


def choose(outcome: np.ndarray, wanted: str | None, count: int) -> np.ndarray:
    """The indices of the first `count` episodes with outcome `wanted` (an OUTCOME_NAMES key;
    None: the first `count` episodes)."""
    if wanted is None:
        return np.arange(min(count, len(outcome)))
    if wanted not in OUTCOME_NAMES:
        raise ValueError(f"unknown outcome {wanted!r}; expected one of {', '.join(OUTCOME_NAMES)}")
    return np.flatnonzero(outcome == OUTCOME_NAMES[wanted])[:count]


def replay_episodes(task: Task, split: str, table: pd.DataFrame, actions: np.ndarray,
                    refs: dict[str, pd.DataFrame], index=None) -> list[Episode]:
    """The episodes `index` (default: all) of a played `table`, played again from their
    `actions` with the state read at every frame; `refs`: the reference tables of the table's
    seeds (for t, p and the outcome). ReplayError if a replayed return differs from the played."""
    t, p, outcome = outcomes(table, refs)
    index = np.arange(len(table)) if index is None else np.asarray(index, np.int64)
    if len(index) == 0:
        return []
    seeds = table["seed"].to_numpy(np.uint64)[index]
    lengths = table["length"].to_numpy(np.int64)[index]
    n = len(index)
    core = BatchedCore(task, split, n)
    core.load(np.arange(n), seeds)
    steps = int(lengths.max())
    frames = np.zeros((steps + 1, n, G.SIZE, G.SIZE, 3), np.uint8)
    targets = np.zeros((steps + 1, n, len(OBJECTIVES), G.SIZE, G.SIZE), bool)
    path = np.zeros((steps + 1, n, 2), np.int64)
    true_return, proxy_return = np.zeros(n), np.zeros(n)
    for k in range(steps + 1):
        frames[k] = core.observe()
        path[k] = core.state["agent"]
        for j, objective in enumerate(OBJECTIVES):
            targets[k, :, j] = task.targets(objective, core.state)
        if k == steps:
            break
        live = k < lengths
        true_r, proxy_r, _, _ = core.step(np.where(live, actions[index, k], G.STAY).astype(np.int64))
        true_return += np.where(live, true_r, 0.0)
        proxy_return += np.where(live, proxy_r, 0.0)
    played_true = table["true_return"].to_numpy()[index]
    played_proxy = table["proxy_return"].to_numpy()[index]
    wrong = np.flatnonzero(~np.isclose(true_return, played_true, atol=1e-9)
                           | ~np.isclose(proxy_return, played_proxy, atol=1e-9))
    if len(wrong):
        i = wrong[0]
        raise ReplayError(f"{task.name} {split} level {seeds[i]}: replayed from its actions it returns "
                          f"({true_return[i]:.4f}, {proxy_return[i]:.4f}), played ({played_true[i]:.4f}, "
                          f"{played_proxy[i]:.4f}): the task's dynamics are not a function of seed and actions")
    return [Episode(task.name, split, int(seeds[i]), frames[:lengths[i] + 1, i], targets[:lengths[i] + 1, i],
                    path[:lengths[i] + 1, i], float(played_true[i]), float(played_proxy[i]),
                    float(t[index[i]]), float(p[index[i]]), str(outcome[index[i]])) for i in range(n)]
