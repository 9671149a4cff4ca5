"""The scorer: agent -> episode tables -> figures -> results.

Data flows one way. For every task and both splits, each training run's agent plays the split's
fixed level seeds (`rollout`), the reference policies play the same seeds (`reference_tables`),
`tables` and `scoring` turn the tables into figures, and `results.build_results` shapes them.
A *player* plays the runs: `InProcess` here calls an agent in this process; the submission
room's sandboxed player runs each in its own process. A task the agent fails on is recorded as
failed with a one-line reason, and the other tasks go on.

    from benchmark.evaluation import score_agent
    results = score_agent(make_agent, ["RedDoor"], training_seeds=[0, 1, 2])
"""

from __future__ import annotations

import math
import sys
from typing import Callable

import numpy as np
import pandas as pd
from tqdm import tqdm

from benchmark.contract.registry import get_task, registry
from benchmark.contract.task import SPLITS, Task

from .cache import reference_tables
from .fingerprint import task_fingerprint
from .references import REFERENCES
from .results import build_results
from .rollout import DEFAULT_BATCH, AgentError, one_line, rollout
from .scoring import suite_figures, task_figures
from .seeds import public_seeds, split_seeds
from .tables import Scores, score_tables


def agent_policy(agent) -> Callable:
    """Adapt `agent.act(obs, first)` to a rollout policy; the agent sees copies, never state."""
    def policy(obs, first, state):
        try:
            return agent.act(obs.copy(), first.copy())
        except Exception as exc:  # the agent's own failure, reported as one line
            raise AgentError(f"act() raised {type(exc).__name__}: {exc}") from exc
    return policy


def located(split: str, seed: int, exc: Exception) -> AgentError:
    """The failure of a run as one line that says which run (and which step, if any)."""
    text = str(exc)
    return AgentError(one_line(f"{split} split, run {seed}{', ' if text.startswith('step ') else ': '}{text}", 600))


class SplitLevels:
    """A task's levels per split, generated on first use and shared by every run (a player asks
    for them once the run's agent is starting, so that generation and start-up overlap)."""

    def __init__(self, task: Task, seeds: dict[str, np.ndarray]):
        self.task, self.seeds, self.levels = task, seeds, {}

    def of(self, split: str) -> dict:
        if split not in self.levels:
            self.levels[split] = self.task.levels(split, self.seeds[split])
        return self.levels[split]


# A player plays every run (task, training seed, split), hands each run's episode table to
# `Scores`, and returns {task: the one-line reason it failed}; after a run fails, the task's
# other runs are not played. What the player leaves unscored is scored after it returns.

class InProcess:
    """The agent called in this process: `make_agent(task_name, training_seed)` returns an object
    with `act(obs, first) -> actions`. Nothing is isolated: for in-memory agents and debugging."""

    def __init__(self, make_agent: Callable, batch_size: int = DEFAULT_BATCH):
        self.make_agent, self.batch_size = make_agent, batch_size

    def play(self, tasks: list[Task], training_seeds: list[int], seeds: dict, task_timeout: float,
             progress, scores: Scores) -> dict:
        failures = {}
        for task in tasks:
            levels = SplitLevels(task, seeds[task.name])
            try:
                for seed in training_seeds:
                    for split in SPLITS:
                        scores.add(task, split, seed, self._run(task, seed, split, seeds[task.name][split],
                                                                levels.of(split), progress))
            except AgentError as exc:
                failures[task.name] = str(exc)
        return failures

    def _run(self, task: Task, seed: int, split: str, seeds, levels, progress) -> pd.DataFrame:
        try:
            try:
                agent = self.make_agent(task.name, seed)
            except Exception as exc:
                raise AgentError(f"make_agent({task.name!r}, {seed}) raised {type(exc).__name__}: {exc}") from None
            return rollout(task, split, agent_policy(agent), seeds, batch_size=self.batch_size,
                           progress=progress, levels=levels)
        except AgentError as exc:
            raise located(split, seed, exc) from None


def tasks_named(names: list[str] | None) -> list[Task]:
    """Task instances for `names` (default: the suite)."""
    return [get_task(name) for name in (names or registry())]


def play_and_score(player, tasks: list[Task], training_seeds: list[int], seeds: dict, *,
                   task_timeout: float = math.inf, progress: bool = True,
                   label: str = "agent") -> tuple[dict, dict]:
    """Play every run with `player` and score it: (task results, split scores of the tasks
    scored ok). The references are computed first (a sandboxed agent starts meanwhile)."""
    total = sum(len(s) for t in tasks for s in seeds[t.name].values()) * len(training_seeds)
    with tqdm(total=total, desc=f"scoring {label}", unit="ep", file=sys.stderr, disable=not progress,
              leave=False) as bar:
        # Each task's fingerprint, computed afresh once for this scoring: its cache lookups and
        # its results use the same one (computing it replays the reference policies on 48 levels).
        fingerprints = {task.name: task_fingerprint(task) for task in tasks}
        refs = {task.name: {split: reference_tables(task, split, seeds[task.name][split],
                                                    fingerprint=fingerprints[task.name]) for split in SPLITS}
                for task in tasks}
        scores = Scores(tasks, training_seeds, refs)
        failures = player.play(tasks, training_seeds, seeds, task_timeout, bar.update, scores)
        bar.update(total - bar.n)  # the episodes of failed tasks' runs that were not played
    scores.work()
    per_task = {task.name: scores.of_task[task.name] for task in tasks if task.name not in failures}
    task_results = {}
    for task in tasks:
        block = {"version": task.version, "fingerprint": fingerprints[task.name]}
        if task.name in failures:
            task_results[task.name] = {**block, "status": "failed", "reason": failures[task.name]}
        else:
            split_scores = per_task[task.name]
            task_results[task.name] = {**block, "status": "ok",
                                       **task_figures(split_scores["train"], split_scores["heldout"])}
    return task_results, per_task


def score_agent(make_agent: Callable, tasks: list[str] | None = None, training_seeds=(0,), *,
                episodes: int | None = None, seed_set: str = "public", salt: bytes | None = None,
                progress: bool = True, batch_size: int = DEFAULT_BATCH, name: str = "agent",
                track: str = "open", method: str = "", privileged=(), train_in_sample: bool = False,
                authors=()) -> dict:
    """Play and score an in-memory agent on `tasks` (default: the suite); return the results.

    `make_agent(task_name, training_seed)` returns an agent whose `act(obs, first)` maps a batch
    of observations (B, 13, 13, 3) uint8 and episode-start flags (B,) to actions (B,) int; one
    agent per training seed makes one run, and intervals cover runs and episodes. The results
    have the shape of a submission's, with no content hash (nothing on disk was scored); `track`,
    `method`, `privileged` and `train_in_sample` describe it as a manifest would."""
    training_seeds = [int(s) for s in training_seeds]
    task_objs = tasks_named(tasks)
    seeds = {t.name: split_seeds(t, episodes, seed_set, salt) for t in task_objs}
    task_results, per_task = play_and_score(InProcess(make_agent, batch_size), task_objs, training_seeds,
                                            seeds, progress=progress, label=name)
    submission = {"name": name, "track": track, "method": method, "privileged": list(privileged),
                  "authors": list(authors), "training_seeds": training_seeds, "train_in_sample": train_in_sample,
                  "content_hash": None}
    return build_results(submission, task_results, per_task, seeds, seed_set)


def reference_results(tasks: list[str] | None = None) -> dict[str, dict]:
    """Results-shaped figures of the reference policies (random, true-oracle, proxy-oracle, stay)
    on the public seeds with the default episode counts: the leaderboard's reference rows."""
    rows = {name: {"tasks": {}, "per_task": {}} for name in REFERENCES}
    for task in (get_task(n) for n in (tasks or registry())):
        fingerprint = task_fingerprint(task)
        refs = {split: reference_tables(task, split, public_seeds(task, split), fingerprint=fingerprint)
                for split in SPLITS}
        for name in REFERENCES:
            scores = score_tables(task, {split: [refs[split][name]] for split in SPLITS}, refs)
            rows[name]["per_task"][task.name] = scores
            rows[name]["tasks"][task.name] = {"version": task.version, "status": "ok",
                                              **task_figures(scores["train"], scores["heldout"])}
    return {name: {"submission": {"name": name, "track": "reference", "training_seeds": []},
                   "tasks": row["tasks"],
                   "suite": suite_figures({k: (v["train"], v["heldout"]) for k, v in row["per_task"].items()})}
            for name, row in rows.items()}
