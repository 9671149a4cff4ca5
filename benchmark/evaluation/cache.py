"""Where the benchmark keeps what it can recompute: the reference policies' episode tables.

A table is cached on disk under a key of task name, split, the seed list's hash and the task's
fingerprint (version, dynamics, references, scoring: see `fingerprint`; scoring covers the
candidate goals' columns and the chance family), computed afresh for every lookup, so a change
of a task, a reference policy or a candidate misses the cache even without a version bump, and
the cache can never serve an outdated table.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

from benchmark.contract.task import Task

from .fingerprint import dynamics_hash, references_hash, task_scoring_hash
from .references import PLAYED, play_references
from .rollout import GOAL, episode_table
from .seeds import seed_list_hash

COLUMNS = ("true_return", "proxy_return", "length", "outcome")


def cache_dir() -> Path:
    """$PROXYBENCH_CACHE, else ~/.cache/proxybench."""
    return Path(os.environ.get("PROXYBENCH_CACHE", Path.home() / ".cache" / "proxybench"))


def cache_path(task: Task, split: str, seeds: np.ndarray, fingerprint: dict | None = None) -> Path:
    """The entry's path; `fingerprint`: the task's, computed afresh by the caller for this use
    (a scoring computes it once for its cache lookups and its results), else here."""
    fp = fingerprint or {"version": task.version, "dynamics": dynamics_hash(task),
                         "references": references_hash(task), "scoring": task_scoring_hash(task)}
    alpha = f"-a{task.alpha:g}" if task.alpha else ""
    return cache_dir() / (f"{task.name}-v{fp['version']}{alpha}-{split}-{seed_list_hash(seeds)}"
                          f"-{fp['dynamics']}-{fp['references']}-{fp['scoring']}.npz")


def reference_tables(task: Task, split: str, seeds, *, use_cache: bool = True,
                     levels: dict | None = None, fingerprint: dict | None = None) -> dict[str, pd.DataFrame]:
    """Episode tables of the reference policies (`references.PLAYED`) on `seeds`, from the cache
    when it holds them for the task as it is now; `levels` as in `rollout`; `fingerprint` as in
    `cache_path`."""
    seeds = np.asarray(seeds, np.uint64)
    if not use_cache:
        return play_references(task, split, seeds, levels)
    path = cache_path(task, split, seeds, fingerprint)
    if path.exists():
        try:
            with np.load(path) as data:
                return {name: episode_table(seeds, *(data[f"{name}/{col}"] for col in COLUMNS),
                                            {c.name: data[f"{name}/{GOAL}{c.name}"] for c in task.candidates})
                        for name in PLAYED}
        except (OSError, KeyError, ValueError):
            pass  # a damaged cache entry is recomputed
    tables = play_references(task, split, seeds, levels)
    arrays = {f"{name}/{col}": (t[col].cat.codes.to_numpy() if col == "outcome" else t[col].to_numpy())
              for name, t in tables.items() for col in COLUMNS + tuple(GOAL + c.name for c in task.candidates)}
    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(dir=path.parent, suffix=".npz", delete=False) as tmp:
        np.savez(tmp, **arrays)
    os.replace(tmp.name, path)
    return tables
