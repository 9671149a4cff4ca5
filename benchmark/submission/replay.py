"""Replaying a submission: its agent plays in the sandbox exactly as scoring plays it (a fresh
process per run, from one zygote, under the same limits, at the scorer's rollout width), seeing
only observations and `first` flags; its actions are logged, and the episodes are played again in
this process with the level state read (`benchmark.evaluation.replay`).

Levels: `count` public level seeds from `first_seed` on; or, asked for an outcome, the first
`count` episodes with that outcome among as many levels from `first_seed` on as the split scores
(from seed 0, the very levels and outcomes of a scoring run).
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from benchmark.contract.registry import get_task
from benchmark.contract.task import Task
from benchmark.evaluation.cache import reference_tables
from benchmark.evaluation.references import play_references
from benchmark.evaluation.replay import (SCORED_AGAINST, Episode, LoggedRollout, ReplayError, choose, outcomes,
                                         replay_episodes)
from benchmark.evaluation.rollout import DEFAULT_BATCH, AgentError
from benchmark.evaluation.scorer import located

from .manifest import load_manifest
from .sandbox import DEFAULT_USER, Limits, MakeAgentError, PreviousRunError, Sandbox
from .score import Job


class SubmissionReplays:
    """Replays of one submission's agent; use as a context manager (it holds the sandbox's
    zygote, so that replays of several tasks start their agents cheaply)."""

    def __init__(self, folder: str | Path, limits: Limits | None = None, sandbox_user: str = DEFAULT_USER,
                 warn=None):
        self.manifest = load_manifest(folder)
        self.limits = limits or Limits()
        self.lane = Sandbox(self.manifest, self.limits, sandbox_user, warn)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.lane.close()

    def covers(self) -> list[str]:
        """The tasks the manifest covers (every task when it names none)."""
        from benchmark.contract.registry import registry

        return list(self.manifest.tasks) or list(registry())

    def episodes(self, task_name: str, split: str = "heldout", count: int = 8, first_seed: int = 0,
                 outcome: str | None = None, run: int | None = None) -> list[Episode]:
        """Up to `count` episodes of the agent's run `run` (a training seed; default the
        manifest's first) on `split`, with their frames; `outcome` (true, proxy, both, neither)
        keeps only episodes that had it. ReplayError if the agent fails or none qualifies."""
        task = get_task(task_name)
        run = self.manifest.seeds[0] if run is None else run
        if run not in self.manifest.seeds:
            raise ReplayError(f"{self.manifest.name}: run {run} is not one of its training seeds "
                              f"{list(self.manifest.seeds)} (--run)")
        if count < 1:
            raise ReplayError(f"--episodes must be at least 1, got {count}")
        block = count if outcome is None else task.episodes[split]
        seeds = np.arange(first_seed, first_seed + block, dtype=np.uint64)
        table, actions = self.play(task, split, seeds, run)
        if outcome is None:
            refs = play_references(task, split, seeds, names=SCORED_AGAINST)
        else:
            refs = reference_tables(task, split, seeds)   # the scorer's, from the cache when it has them
        index = choose(outcomes(table, refs)[2], outcome, count)
        if len(index) == 0:
            raise ReplayError(f"{self.manifest.name}: no episode on {task.name} {split} levels {first_seed}.."
                              f"{first_seed + block - 1} had the outcome {outcome!r}")
        return replay_episodes(task, split, table, actions, refs, index)

    def play(self, task: Task, split: str, seeds: np.ndarray, run: int):
        """The agent's run on `seeds`, played in the sandbox: (episode table, actions)."""
        play = LoggedRollout(task, split, seeds, batch_size=DEFAULT_BATCH)
        deadline = time.monotonic() + self.limits.task_timeout
        try:
            job = Job(task, run, split, self.lane.run(task.name, run, deadline), play)
            job.send(alone=True)
            while not job.advance(alone=True):
                pass
            self.lane.settle()
        except (AgentError, MakeAgentError, PreviousRunError) as exc:
            self.lane.kill()
            raise ReplayError(f"{self.manifest.name}: task {task.name}: {located(split, run, exc)}") from None
        return play.table(), play.actions
