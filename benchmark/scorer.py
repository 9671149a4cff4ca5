"""The scorer: submission -> episode tables -> figures -> results.json.

Data flows one way. For every task and both splits, each training run's agent plays the split's
fixed level seeds (`rollout`), the reference policies play the same seeds (`reference_tables`),
`scoring` turns the tables into figures, and `results.json` is written atomically beside the
manifest (a temporary file renamed over the old one), so a failed run leaves the previous file.
"""

from __future__ import annotations

import datetime as _dt
import json
import os
import sys
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
from tqdm import tqdm

from . import BENCHMARK_VERSION
from .grid import stable_hash64
from .rollout import AgentError, REFERENCES, reference_tables, rollout
from .scoring import SplitScore, episode_scores, score_split, suite_figures, task_figures
from .submission import RESULTS, Manifest, content_hash, load_agent_factory, load_manifest
from .task import SPLITS, Task, get_task, public_seeds, seed_list_hash

TIMESTAMP_FIELDS = ("scored_at",)  # the only fields that differ between two scorings


class ScoringError(RuntimeError):
    """A submission failed on a task; the message names the submission, task, split and step."""


def split_seeds(task: Task, episodes: int | None = None) -> dict[str, np.ndarray]:
    return {split: public_seeds(task, split, episodes) for split in SPLITS}


def score_tables(task: Task, runs: dict[str, list[pd.DataFrame]],
                 refs: dict[str, dict[str, pd.DataFrame]]) -> dict[str, SplitScore]:
    """Per split, the figures of a list of episode tables (one per training run)."""
    rng = np.random.default_rng(stable_hash64(f"bootstrap/{task.name}"))
    out = {}
    for split in SPLITS:
        scores = [episode_scores(table, refs[split]) for table in runs[split]]
        t_r, p_r = episode_scores(refs[split]["random"], refs[split])
        out[split] = score_split(np.stack([s[0] for s in scores]), np.stack([s[1] for s in scores]),
                                 t_r, p_r, rng)
    return out


def agent_policy(agent, who: str):
    """Adapt `agent.act(obs, first)` to a rollout policy; the agent sees copies, never state."""
    def policy(obs, first, state):
        try:
            return agent.act(obs.copy(), first.copy())
        except Exception as exc:  # the agent's own failure, reported as one line
            raise AgentError(f"act() raised {type(exc).__name__}: {exc}") from exc
    return policy


def score_submission(folder: str | Path, tasks: list[str] | None = None, episodes: int | None = None,
                     progress: bool = True) -> dict:
    """Score a submission folder in-process on `tasks` (default: the suite); return results."""
    manifest = load_manifest(folder)
    make_agent = load_agent_factory(manifest)
    task_objs = [get_task(name) for name in (tasks or _all_tasks())]
    seeds = {t.name: split_seeds(t, episodes) for t in task_objs}
    total = sum(len(s) for t in task_objs for s in seeds[t.name].values()) * len(manifest.seeds)
    bar = tqdm(total=total, desc=f"scoring {manifest.name}", unit="ep", file=sys.stderr,
               disable=not progress, leave=False)
    per_task, task_results = {}, {}
    try:
        for task in task_objs:
            refs = {split: reference_tables(task, split, seeds[task.name][split]) for split in SPLITS}
            runs = {split: [] for split in SPLITS}
            for seed in manifest.seeds:
                for split in SPLITS:
                    bar.set_postfix_str(f"{task.name} {split} run {seed}")
                    try:
                        agent = make_agent(task.name, seed)
                        table = rollout(task, split, agent_policy(agent, manifest.name),
                                        seeds[task.name][split], progress=bar.update)
                    except AgentError as exc:
                        raise ScoringError(f"{manifest.name}: task {task.name}, {split} split, "
                                           f"run {seed}: {exc}") from None
                    except Exception as exc:
                        raise ScoringError(f"{manifest.name}: task {task.name}, make_agent({task.name!r}, "
                                           f"{seed}) raised {type(exc).__name__}: {exc}") from None
                    runs[split].append(table)
            per_task[task.name] = score_tables(task, runs, refs)
            task_results[task.name] = {"version": task.version, "status": "ok",
                                       **task_figures(per_task[task.name]["train"], per_task[task.name]["heldout"])}
    finally:
        bar.close()
    return build_results(manifest, task_results, per_task, seeds)


def build_results(manifest: Manifest, task_results: dict, per_task: dict, seeds: dict) -> dict:
    all_seeds = np.concatenate([seeds[name][split] for name in sorted(seeds) for split in SPLITS])
    return {
        "proxybench_version": BENCHMARK_VERSION,
        "scored_at": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "submission": {
            "name": manifest.name, "track": manifest.track, "authors": list(manifest.authors),
            "training_seeds": list(manifest.seeds), "content_hash": content_hash(manifest.path),
        },
        "seed_set": {"name": "public", "hash": seed_list_hash(all_seeds)},
        "task_versions": {name: res["version"] for name, res in task_results.items()},
        "tasks": task_results,
        "suite": suite_figures({name: (s["train"], s["heldout"]) for name, s in per_task.items()}),
    }


def write_json_atomic(path: Path, data: dict) -> None:
    """Write JSON to a temporary file in the same folder, then rename it over `path`."""
    path = Path(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w") as fh:
            json.dump(data, fh, indent=2, sort_keys=False, allow_nan=False)
            fh.write("\n")
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def results_path(folder: str | Path) -> Path:
    return Path(folder) / RESULTS


def reference_results(tasks: list[str] | None = None) -> dict[str, dict]:
    """Results-shaped figures of the reference policies (random, true-oracle, proxy-oracle, stay)
    on the public seeds with the default episode counts: the leaderboard's reference rows."""
    rows = {name: {"tasks": {}, "per_task": {}} for name in REFERENCES}
    for task in (get_task(n) for n in (tasks or _all_tasks())):
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


def _all_tasks() -> list[str]:
    from .task import registry
    return list(registry())
