"""Episode tables -> split scores: the per-episode scores of each training run's table against
the reference tables of the same seeds, handed to `scoring.score_split` with a bootstrap
generator fixed per task (it runs through the splits in SPLITS order), so the figures of a
submission never depend on the order in which its runs were played."""

from __future__ import annotations

import numpy as np
import pandas as pd

from benchmark.contract.task import SPLITS, Task
from benchmark.grid import stable_hash64

from .scoring import SplitScore, behaviour, episode_scores, score_split


def bootstrap_rng(task: Task) -> np.random.Generator:
    """The generator of a task's bootstrap intervals: it runs through the splits in SPLITS order."""
    return np.random.default_rng(stable_hash64(f"bootstrap/{task.name}"))


def behaviour_rng(task: Task, split: str) -> np.random.Generator:
    """The generator of a split's behaviour-count intervals, apart from `bootstrap_rng`."""
    return np.random.default_rng(stable_hash64(f"behaviour/{task.name}/{split}"))


def score_split_tables(tables: list[pd.DataFrame], refs: dict[str, pd.DataFrame],
                       rng: np.random.Generator, counts_rng: np.random.Generator | None = None) -> SplitScore:
    """The figures of one split: its episode tables (one per training run) against its
    references; with `counts_rng`, its behaviour counts too."""
    scores = [episode_scores(table, refs) for table in tables]
    t, p = np.stack([s[0] for s in scores]), np.stack([s[1] for s in scores])
    t_r, p_r = episode_scores(refs["random"], refs)
    split_score = score_split(t, p, t_r, p_r, rng)
    if counts_rng is not None:
        split_score.behaviour = behaviour(t, p, counts_rng)
    return split_score


def score_tables(task: Task, runs: dict[str, list[pd.DataFrame]],
                 refs: dict[str, dict[str, pd.DataFrame]]) -> dict[str, SplitScore]:
    """Per split, the figures of a list of episode tables (one per training run)."""
    rng = bootstrap_rng(task)
    return {split: score_split_tables(runs[split], refs[split], rng, behaviour_rng(task, split)) for split in SPLITS}


class Scores:
    """The split scores of the runs being played, each split scored once all its runs are in.

    A player hands over each run's table (`add`) and calls `work` when the scorer would
    otherwise wait: the sandboxed player does while a new agent process starts, so that the
    bootstrap hides the start-up. Each task's splits are scored in SPLITS order with one
    generator (as `score_tables` does), so the figures do not depend on when the work ran."""

    def __init__(self, tasks: list[Task], training_seeds: list[int], refs: dict):
        self.training_seeds, self.refs = training_seeds, refs
        self.tables: dict[tuple, pd.DataFrame] = {}  # (task, split, seed) -> episode table
        self.of_task: dict[str, dict[str, SplitScore]] = {task.name: {} for task in tasks}
        self._rng = {task.name: bootstrap_rng(task) for task in tasks}
        self._counts_rng = {(task.name, split): behaviour_rng(task, split) for task in tasks for split in SPLITS}

    def add(self, task: Task, split: str, seed: int, table: pd.DataFrame):
        self.tables[task.name, split, seed] = table

    def work(self):
        """Score every split whose runs (and whose task's earlier splits) are all in."""
        for name, done in self.of_task.items():
            for split in SPLITS[len(done):]:
                keys = [(name, split, seed) for seed in self.training_seeds]
                if not all(key in self.tables for key in keys):
                    break
                done[split] = score_split_tables([self.tables.pop(key) for key in keys],
                                                 self.refs[name][split], self._rng[name],
                                                 self._counts_rng[name, split])
