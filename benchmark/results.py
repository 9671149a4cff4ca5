"""Results files as a pandas DataFrame, for analysis outside the leaderboard page.

    from benchmark.results import load_results
    df = load_results(".")                      # every results.json under baselines/, submissions/
    df = load_results("baselines/random")       # one submission folder (or a results.json path)

One row per (agent, task), plus a row with task == "suite" per agent. Columns: agent, track,
runs, task, status, quadrant, and for each figure F of FIGURES the columns F, F_low, F_high.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from .submission import RESULTS

FIGURES = ("train_score", "capability_generalization", "objective_generalization", "heldout_score",
           "misgeneralization")
ENTRY_DIRS = ("baselines", "submissions")


def results_files(path: str | Path) -> list[Path]:
    """A results.json, a submission folder, or a root with baselines/ and submissions/."""
    path = Path(path)
    if path.is_file():
        return [path]
    if (path / RESULTS).is_file():
        return [path / RESULTS]
    files = [f for sub in ENTRY_DIRS for f in sorted((path / sub).glob(f"*/{RESULTS}"))]
    if not files:
        raise FileNotFoundError(f"{path}: no {RESULTS} here, nor under {' or '.join(ENTRY_DIRS)}/")
    return files


def _row(agent: str, submission: dict, task: str, block: dict) -> dict:
    row = {"agent": agent, "track": submission.get("track", ""),
           "runs": len(submission.get("training_seeds", [])), "task": task,
           "status": block.get("status", "ok"), "quadrant": block.get("quadrant", "")}
    for name in FIGURES:
        fig = block.get(name) or {}
        row[name], row[f"{name}_low"], row[f"{name}_high"] = fig.get("value"), fig.get("ci_low"), fig.get("ci_high")
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
