"""Staleness: does a committed figure still say what the code would say?

Every task block of a results.json, and every row of a curve CSV, carries the fingerprint of the
task as it was scored (`benchmark.evaluation.fingerprint`). The current fingerprints are computed
afresh, so a change of a task's dynamics, of a reference policy or of the scoring formulas marks
every figure made before it, with the reason, even where nobody bumped a version. Results of an
older schema have no fingerprint and are stale as a whole.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from benchmark.contract.registry import get_task, registry
from benchmark.evaluation.fingerprint import PARTS, differences, task_fingerprint
from benchmark.evaluation.results import SCHEMA_VERSION, entry_files

CURVES = "docs/curves"


def current_fingerprints(tasks=None) -> dict[str, dict]:
    """Task name -> its fingerprint now, for every task of the suite (or of `tasks`)."""
    return {name: task_fingerprint(get_task(name)) for name in (tasks or registry())}


def fingerprint_text(fingerprint: dict) -> str:
    """A fingerprint in one CSV cell: 'v1:dynamics:references:scoring'."""
    return f"v{fingerprint['version']}:" + ":".join(fingerprint[part] for part in PARTS[1:])


def parse_fingerprint(text) -> dict | None:
    parts = str(text).split(":") if isinstance(text, str) else []
    if len(parts) != len(PARTS) or not parts[0].startswith("v") or not parts[0][1:].isdigit():
        return None
    return {"version": int(parts[0][1:]), **dict(zip(PARTS[1:], parts[1:]))}


def results_staleness(results: dict, current: dict[str, dict]) -> dict[str, list[str]]:
    """Task -> why its figures are stale (tasks no longer in the suite are not judged)."""
    old_schema = results.get("schema_version", 1) < SCHEMA_VERSION
    out = {}
    for name, block in results.get("tasks", {}).items():
        if name not in current:
            continue
        reasons = [f"results schema {results.get('schema_version', 1)}, now {SCHEMA_VERSION}"] if old_schema \
            else differences(block.get("fingerprint"), current[name])
        if reasons:
            out[name] = reasons
    return out


def curve_staleness(table: pd.DataFrame, current: dict[str, dict]) -> list[str]:
    """Why a curve's rows are stale (empty if none is)."""
    if "fingerprint" not in table or "task" not in table:
        return ["no fingerprint (made before curves carried one)"]
    reasons = []
    for task, text in sorted(set(zip(table["task"], table["fingerprint"]))):
        if task in current:
            reasons += differences(parse_fingerprint(text), current[task])
    return sorted(set(reasons))


def stale_files(root: Path, current: dict[str, dict] | None = None) -> list[str]:
    """One line per stale committed result or curve: the file, the task, why, and the command
    that makes it anew."""
    root = Path(root)
    current = current if current is not None else current_fingerprints()
    lines = []
    for path in entry_files(root):
        try:
            results = json.loads(path.read_text())
        except (OSError, ValueError):
            continue   # the leaderboard refuses an unreadable file with its own message
        rel = path.parent.relative_to(root).as_posix()
        for task, reasons in results_staleness(results, current).items():
            lines.append(f"{rel}/results.json: {task}: {'; '.join(reasons)}; rescore with `proxybench score {rel}`")
    for csv in sorted((root / CURVES).glob("*.csv")):
        table = pd.read_csv(csv)
        if reasons := curve_staleness(table, current):
            command = curve_command(table)
            lines.append(f"{csv.relative_to(root).as_posix()}: {'; '.join(reasons)}; remake with `{command}`")
    return lines


def curve_command(table: pd.DataFrame) -> str:
    """The command that makes a curve CSV anew, from what the CSV records."""
    if not {"baseline", "task", "alpha", "seeds"} <= set(table):
        return "proxybench curve BASELINE --task TASK"
    alphas = ",".join(f"{a:g}" for a in table["alpha"])
    steps = f" --steps {int(table['env_steps'].iloc[0])}" if "env_steps" in table else ""
    return (f"proxybench curve {table['baseline'].iloc[0]} --task {table['task'].iloc[0]} --alphas {alphas} "
            f"--seeds {int(table['seeds'].iloc[0])}{steps}")
