"""Results files: building results.json, writing it atomically, finding and reading it back,
and reading results as a pandas DataFrame, for analysis outside the leaderboard page.

    from benchmark.evaluation.results import load_results
    df = load_results(".")                      # every results.json under baselines/, submissions/
    df = load_results("baselines/random")       # one submission folder (or a results.json path)

One row per (agent, task), plus a row with task == "suite" per agent. Columns: agent, track,
runs, task, status, quadrant, and for each figure F of TABLE_FIGURES the columns F, F_low, F_high;
then `pursues` and `pursues_score`, the goal that best explains the held-out split and its mean
normalized score (empty on suite rows).
"""

from __future__ import annotations

import datetime
import json
import os
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

from benchmark.contract.task import SPLITS
from benchmark.version import BENCHMARK_VERSION

from .scoring import DECLARED_CG, FIGURES, suite_figures
from .seeds import seed_list_hash

RESULTS = "results.json"
SCHEMA_VERSION = 2   # 2: fingerprints, behaviour counts, method, privileged knowledge, in-sample T
# (fields added since, readers ignoring what they do not know: capability_generalization_declared
# and pursues per task)
TABLE_FIGURES = ("train_score",) + FIGURES + (DECLARED_CG,)
TIMESTAMP_FIELDS = ("scored_at",)  # the only fields that differ between two scorings
ENTRY_DIRS = ("baselines", "submissions")


def entry_files(root: str | Path) -> list[Path]:
    """Every results.json of a submission folder under root/baselines and root/submissions."""
    return [f for sub in ENTRY_DIRS for f in sorted((Path(root) / sub).glob(f"*/{RESULTS}"))]


def results_files(path: str | Path) -> list[Path]:
    """A results.json, a submission folder, or a root with baselines/ and submissions/."""
    path = Path(path)
    if path.is_file():
        return [path]
    if (path / RESULTS).is_file():
        return [path / RESULTS]
    files = entry_files(path)
    if not files:
        raise FileNotFoundError(f"{path}: no {RESULTS} here, nor under {' or '.join(ENTRY_DIRS)}/")
    return files


def _row(agent: str, submission: dict, task: str, block: dict) -> dict:
    row = {"agent": agent, "track": submission.get("track", ""),
           "runs": len(submission.get("training_seeds", [])), "task": task,
           "status": block.get("status", "ok"), "quadrant": block.get("quadrant", "")}
    for name in TABLE_FIGURES:
        fig = block.get(name) or {}
        row[name], row[f"{name}_low"], row[f"{name}_high"] = fig.get("value"), fig.get("ci_low"), fig.get("ci_high")
    best = (block.get("pursues") or [{}])[0]
    row["pursues"], row["pursues_score"] = best.get("goal", ""), best.get("score")
    return row


def results_frame(results: dict) -> pd.DataFrame:
    """One parsed results dict -> its rows."""
    submission = results["submission"]
    agent = submission["name"]
    rows = [_row(agent, submission, task, block) for task, block in results["tasks"].items()]
    if results.get("suite"):
        rows.append(_row(agent, submission, "suite", results["suite"]))
    return pd.DataFrame(rows)


def load_results(path: str | Path = ".") -> pd.DataFrame:
    frames = []
    for file in results_files(path):
        try:
            frames.append(results_frame(json.loads(file.read_text())))
        except (ValueError, KeyError, TypeError) as exc:
            raise ValueError(f"{file}: cannot read results ({type(exc).__name__}: {exc})") from None
    return pd.concat(frames, ignore_index=True)


def results_path(folder: str | Path) -> Path:
    return Path(folder) / RESULTS


def build_results(submission: dict, task_results: dict, per_task: dict, seeds: dict,
                  seed_set: str = "public") -> dict:
    """results.json. `submission` is its block (name, track, method, privileged knowledge,
    authors, training seeds, whether training saw the train split's scoring levels, content
    hash); `task_results` each task's block (its fingerprint and figures); `per_task` holds the
    split scores of the tasks scored ok; the suite block is computed over those and counts the
    failed tasks. The seed set is recorded by name and a hash of the seed list, never the seeds;
    each task also records its own seed list's hash."""
    all_seeds = np.concatenate([seeds[name][split] for name in sorted(seeds) for split in SPLITS])
    failed = sum(1 for res in task_results.values() if res.get("status") != "ok")
    for name, res in task_results.items():
        res["seeds"] = seed_list_hash(np.concatenate([seeds[name][split] for split in SPLITS]))
        if res.get("status") == "ok":
            res["train_score_in_sample"] = bool(submission.get("train_in_sample", False))
    return {
        "schema_version": SCHEMA_VERSION,
        "proxybench_version": BENCHMARK_VERSION,
        "scored_at": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "submission": submission,
        "seed_set": {"name": seed_set, "hash": seed_list_hash(all_seeds)},
        "task_versions": {name: res["version"] for name, res in task_results.items()},
        "tasks": task_results,
        "suite": suite_block({name: (s["train"], s["heldout"]) for name, s in per_task.items()}, failed),
    }


def suite_block(scores: dict, failed: int = 0) -> dict:
    """suite_figures over the tasks scored ok, with `failed_tasks`; null figures when none is."""
    if scores:
        out = suite_figures(scores)
    else:
        empty = {"value": None, "ci_low": None, "ci_high": None}
        out = {name: dict(empty) for name in FIGURES + ("train_score", DECLARED_CG)}
        out["objective_generalization"]["tasks"] = 0
        out["tasks"] = 0
        out["quadrants"] = {"robust": 0, "misgeneralized": 0, "incapable": 0}
    out["failed_tasks"] = failed
    return out


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


def same_results(a: dict, b: dict) -> bool:
    """Whether two results differ in nothing but their TIMESTAMP_FIELDS."""
    strip = lambda r: {k: v for k, v in json.loads(json.dumps(r)).items() if k not in TIMESTAMP_FIELDS}  # noqa: E731
    return strip(a) == strip(b)


def write_results(path: Path, results: dict) -> bool:
    """Write results.json unless the file already holds the same results (but for the
    timestamp): a rescoring that changes nothing leaves the file, and the repository, as it was.
    True if written."""
    path = Path(path)
    try:
        if same_results(json.loads(path.read_text()), results):
            return False
    except (OSError, ValueError):
        pass   # none yet, or unreadable: written anew
    write_json_atomic(path, results)
    return True
