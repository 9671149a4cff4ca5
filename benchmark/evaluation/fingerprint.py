"""Fingerprints: what determines a task's figures, computed from behaviour, not remembered.

A figure depends on the task's levels and dynamics, on the reference policies that normalize it,
and on the scoring formulas. Each is hashed from what it *does* on fixed inputs, so a refactor
that changes nothing leaves the fingerprint alone and any change of behaviour moves it:

    version      the task's declared version
    dynamics     observations, both rewards and endings of 32 levels per split under a fixed
                 action sequence (public seeds 0..31)
    references   the four reference policies' episode tables on public seeds 0..23 per split
                 (returns rounded to 1e-9)
    scoring      the scoring code's output (figures, intervals, quadrant, behaviour counts,
                 pursuit) on fixed synthetic episode tables, and the task's own part of scoring:
                 its candidate goals (names, and every reference policy's scores for them) and
                 the chance family's episodes, on public seeds 0..23 per split

Each hash is the first 16 hex digits of a SHA-256. No timestamps, no paths, no seeds of the
scored set: results scored on private seeds are checked through these public-seed hashes, and
the scored seed list's hash is stored apart. Nothing is cached: a fingerprint is recomputed
each time it is asked for (a few hundredths of a second a task), so it cannot be stale.
"""

from __future__ import annotations

import hashlib
import json

import numpy as np
import pandas as pd

from benchmark.contract.task import SPLITS, Task
from benchmark.envs.core import BatchedCore

from .references import CHANCE, PLAYED, REFERENCES, play_references
from .rollout import GOAL
from .scoring import figure, task_figures
from .seeds import public_seeds
from .tables import score_split_tables

PARTS = ("version", "dynamics", "references", "scoring")
DIGITS = 16


def _short(digest) -> str:
    return digest.hexdigest()[:DIGITS]


def dynamics_hash(task: Task, full: bool = False) -> str:
    """Observations, rewards of both objectives and endings under a fixed action sequence."""
    digest = hashlib.sha256()
    actions = np.random.default_rng(7).integers(0, 5, size=(task.max_steps, 32))
    for split in SPLITS:
        core = BatchedCore(task, split, 32)
        core.load(np.arange(32), public_seeds(task, split, 32))
        digest.update(core.observe().tobytes())
        for step_actions in actions:
            for array in (*core.step(step_actions), core.observe()):
                digest.update(np.ascontiguousarray(array).tobytes())
    return digest.hexdigest() if full else _short(digest)


def references_hash(task: Task, full: bool = False) -> str:
    """The four reference policies' episode tables on 24 public seeds of each split, played
    afresh (never from the cache; returns rounded to 1e-9, so that only a real change of an
    oracle, the random policy or the levels shows)."""
    digest = hashlib.sha256()
    for split in SPLITS:
        tables = play_references(task, split, public_seeds(task, split, 24), names=REFERENCES)
        for name, table in sorted(tables.items()):
            digest.update(name.encode())
            for column in ("true_return", "proxy_return"):
                digest.update(np.round(table[column].to_numpy(), 9).tobytes())
            digest.update(table["length"].to_numpy(np.int64).tobytes())
            digest.update(table["outcome"].cat.codes.to_numpy(np.int8).tobytes())
    return digest.hexdigest() if full else _short(digest)


def synthetic_tables(seed: int = 0, episodes: int = 60, runs: int = 2) -> tuple[dict, dict]:
    """Reference tables and agent tables (per split) of made-up returns: the fixed input of the
    scoring hash. Returns on a few levels tie `stay` with the oracle (degenerate levels)."""
    rng = np.random.default_rng(seed)

    def table(true_return, proxy_return, goal_scale=1.0):
        goals = {f"{GOAL}{name}": rng.uniform(0, goal_scale, episodes) for name in ("a ball", "the top edge")}
        return pd.DataFrame({"seed": np.arange(episodes, dtype=np.uint64), "true_return": true_return,
                             "proxy_return": proxy_return, "length": np.full(episodes, 10),
                             "outcome": pd.Categorical.from_codes(np.zeros(episodes, np.int8),
                                                                  ("terminated", "truncated")), **goals})
    refs, runs_by_split = {}, {}
    for split in SPLITS:
        stay = np.where(rng.random(episodes) < 0.1, 0.8, 0.0)
        true_o, proxy_o = np.maximum(stay, rng.uniform(0.6, 1.0, episodes)), np.maximum(stay, rng.uniform(0.6, 1.0, episodes))
        refs[split] = {"stay": table(stay, stay), "true-oracle": table(true_o, rng.uniform(0, 1, episodes)),
                       "proxy-oracle": table(rng.uniform(0, 1, episodes), proxy_o),
                       **{name: table(rng.uniform(0, 0.3, episodes), rng.uniform(0, 0.3, episodes), 0.4)
                          for name in CHANCE if name != "stay"}}
        runs_by_split[split] = [table(rng.uniform(0, 1, episodes) * true_o, rng.uniform(0, 1, episodes) * proxy_o)
                                for _ in range(runs)]
    assert set(refs["train"]) == set(PLAYED)
    return refs, runs_by_split


def scoring_hash() -> str:
    """The scoring code's output on `synthetic_tables`: its figures, intervals, quadrant and
    behaviour counts (as stored in results.json, so at results' precision)."""
    refs, runs = synthetic_tables()
    scores = {split: score_split_tables(runs[split], refs[split], np.random.default_rng(1),
                                        np.random.default_rng(2)) for split in SPLITS}
    out = task_figures(scores["train"], scores["heldout"])
    out["check"] = figure(0.5, (0.25, 0.75))
    return _short(hashlib.sha256(json.dumps(out, sort_keys=True).encode()))


def task_scoring_hash(task: Task) -> str:
    """`scoring_hash` with the task's own part of scoring: its candidate goals' names and every
    reference policy's scores for them, and the chance family's returns, on 24 public seeds of
    each split, played afresh (scores rounded to 1e-9)."""
    digest = hashlib.sha256(scoring_hash().encode())
    digest.update(json.dumps([c.name for c in task.candidates]).encode())
    for split in SPLITS:
        tables = play_references(task, split, public_seeds(task, split, 24))
        for name, table in sorted(tables.items()):
            digest.update(name.encode())
            columns = [c for c in table.columns if c.startswith(GOAL)]
            if name in CHANCE:
                columns += ["true_return", "proxy_return"]
            for column in columns:
                digest.update(np.round(table[column].to_numpy(np.float64), 9).tobytes())
    return _short(digest)


def task_fingerprint(task: Task) -> dict:
    """{version, dynamics, references, scoring} of a task as it is now."""
    return {"version": task.version, "dynamics": dynamics_hash(task), "references": references_hash(task),
            "scoring": task_scoring_hash(task)}


def differences(stored: dict | None, current: dict) -> list[str]:
    """What changed between a stored fingerprint and the current one, in words ('references
    changed', 'version 1 -> 2'); a missing fingerprint is a difference of its own."""
    if not isinstance(stored, dict):
        return ["no fingerprint (an older results schema)"]
    out = []
    for part in PARTS:
        if stored.get(part) != current[part]:
            out.append(f"version {stored.get('version')} -> {current['version']}" if part == "version"
                       else f"{part} changed")
    return out
