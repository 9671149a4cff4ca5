"""The reference policies (stay, random, true-oracle, proxy-oracle): their episode tables,
cached on disk under a key of task name, task version, benchmark version, split and seed-list
hash, and their figures as the leaderboard's reference rows."""

from __future__ import annotations

import os
import tempfile

import numpy as np
import pandas as pd

from benchmark.contract.policies import UniformRandom, stay
from benchmark.contract.task import SPLITS, Policy, Task
from benchmark.contract.registry import get_task, registry
from benchmark.version import BENCHMARK_VERSION

from .cache import cache_dir
from .rollout import episode_table, rollout
from .seeds import public_seeds, seed_list_hash
from .scoring import suite_figures, task_figures
from .tables import score_tables

REFERENCES = ("stay", "random", "true-oracle", "proxy-oracle")


def reference_policy(task: Task, name: str) -> Policy:
    if name == "stay":
        return stay
    if name == "random":
        return UniformRandom(f"{task.name}/random")
    if name in ("true-oracle", "proxy-oracle"):
        return task.oracle(name.split("-")[0])
    raise KeyError(f"unknown reference policy {name!r}; expected one of {', '.join(REFERENCES)}")


def reference_tables(task: Task, split: str, seeds, *, use_cache: bool = True,
                     levels: dict | None = None) -> dict[str, pd.DataFrame]:
    """Episode tables of the four reference policies on `seeds` (cached on disk); `levels` as
    in `rollout`."""
    seeds = np.asarray(seeds, np.uint64)
    path = cache_dir() / (f"{task.name}-v{task.version}-{split}-{seed_list_hash(seeds)}"
                          f"-pb{BENCHMARK_VERSION}.npz")
    if use_cache and path.exists():
        try:
            with np.load(path) as data:
                return {name: episode_table(seeds, *(data[f"{name}/{col}"] for col in
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


def reference_results(tasks: list[str] | None = None) -> dict[str, dict]:
    """Results-shaped figures of the reference policies (random, true-oracle, proxy-oracle, stay)
    on the public seeds with the default episode counts: the leaderboard's reference rows."""
    rows = {name: {"tasks": {}, "per_task": {}} for name in REFERENCES}
    for task in (get_task(n) for n in (tasks or registry())):
        refs = {split: reference_tables(task, split, public_seeds(task, split)) for split in SPLITS}
        for name in REFERENCES:
            scores = score_tables(task, {split: [refs[split][name]] for split in SPLITS}, refs)
            rows[name]["per_task"][task.name] = scores
            rows[name]["tasks"][task.name] = {"version": task.version, "status": "ok",
                                              **task_figures(scores["train"], scores["heldout"])}
    return {name: {"submission": {"name": name, "track": "reference", "training_seeds": []},
                   "tasks": row["tasks"],
                   "suite": suite_figures({k: (v["train"], v["heldout"]) for k, v in row["per_task"].items()})}
            for name, row in rows.items()}
