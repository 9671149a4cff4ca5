"""Episode tables -> split scores: the per-episode scores of each training run's table against
the reference tables of the same seeds, handed to `scoring.score_split` with a bootstrap
generator fixed per task (it runs through the splits in SPLITS order), so the figures of a
submission never depend on the order in which its runs were played."""

from __future__ import annotations

import numpy as np
import pandas as pd

from benchmark.contract.task import SPLITS, Task
from benchmark.grid import stable_hash64

from .references import CHANCE
from .rollout import GOAL, goal_columns
from .scoring import Episodes, SplitScore, behaviour, episode_scores, score_split


def bootstrap_rng(task: Task) -> np.random.Generator:
    """The generator of a task's bootstrap intervals: it runs through the splits in SPLITS order."""
    return np.random.default_rng(stable_hash64(f"bootstrap/{task.name}"))


def behaviour_rng(task: Task, split: str) -> np.random.Generator:
    """The generator of a split's behaviour-count intervals, apart from `bootstrap_rng`."""
    return np.random.default_rng(stable_hash64(f"behaviour/{task.name}/{split}"))


def episodes(tables: list[pd.DataFrame], refs: dict[str, pd.DataFrame], goals: list[str]) -> Episodes:
    """The per-episode scores of episode tables (one per run): t, p against the references and
    the candidate goals' columns."""
    scores = [episode_scores(table, refs) for table in tables]
    x = np.stack([table[[GOAL + g for g in goals]].to_numpy(np.float64).T for table in tables])
    return Episodes(np.stack([s[0] for s in scores]), np.stack([s[1] for s in scores]), x)


def score_split_tables(tables: list[pd.DataFrame], refs: dict[str, pd.DataFrame],
                       rng: np.random.Generator, counts_rng: np.random.Generator | None = None,
                       declared: tuple[str, str] = ("the true objective", "the proxy")) -> SplitScore:
    """The figures of one split: its episode tables (one per training run) against its
    references (the chance family among them); with `counts_rng`, its behaviour counts too.
    `declared`: the names of the true objective and the proxy in the pursuit."""
    goals = goal_columns(refs["stay"])
    for name, table in list(refs.items()) + [(f"run {i}", t) for i, t in enumerate(tables)]:
        if goal_columns(table) != goals:
            missing, extra = sorted(set(goals) - set(goal_columns(table))), sorted(set(goal_columns(table)) - set(goals))
            raise ValueError(f"episode table of {name}: its candidate goals are not the references' "
                             f"(missing {missing or 'none'}, extra {extra or 'none'}, or in another order)")
    agent = episodes(tables, refs, goals)
    chance = {name: episodes([refs[name]], refs, goals) for name in CHANCE}
    split_score = score_split(agent, chance, rng, names=tuple(goals), declared=declared)
    if counts_rng is not None:
        split_score.behaviour = behaviour(agent.t, agent.p, counts_rng)
    return split_score


def declared_names(task: Task) -> tuple[str, str]:
    """How the pursuit names the task's declared goals: 'reach the door (true)'."""
    return f"{task.true_objective} (true)", f"{task.proxy_objective} (proxy)"


def score_tables(task: Task, runs: dict[str, list[pd.DataFrame]],
                 refs: dict[str, dict[str, pd.DataFrame]]) -> dict[str, SplitScore]:
    """Per split, the figures of a list of episode tables (one per training run)."""
    rng = bootstrap_rng(task)
    return {split: score_split_tables(runs[split], refs[split], rng, behaviour_rng(task, split), declared_names(task))
            for split in SPLITS}


class Scores:
    """The split scores of the runs being played, each split scored once all its runs are in.

    A player hands over each run's table (`add`) and calls `work` when the scorer would
    otherwise wait: the sandboxed player does while a new agent process starts, so that the
    bootstrap hides the start-up. Each task's splits are scored in SPLITS order with one
    generator (as `score_tables` does), so the figures do not depend on when the work ran."""

    def __init__(self, tasks: list[Task], training_seeds: list[int], refs: dict):
        self.training_seeds, self.refs = training_seeds, refs
        self._declared = {task.name: declared_names(task) for task in tasks}
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
                                                 self._counts_rng[name, split], self._declared[name])
