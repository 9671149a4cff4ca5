"""Consistency: a results.json is checked against itself before anything shows its figures.

Much of what a results file stores is derived from other fields of the same file:

- a task's headline point values: CG, H, OG and M from the held-out split's raw statistics
  (`splits.heldout`: c, h, c_random, h_random) and T from the train split's, through
  `scoring.axes`, rounded as `scoring.figure` rounds them (4 decimals; OG null when CG < 0.1);
- a task's quadrant, from its unrounded CG and OG (`scoring.quadrant`);
- the suite block: each figure's point value (the mean over the tasks scored ok, OG over those
  where it is defined), the OG task count, the task count, the quadrant counts and the count of
  failed tasks;
- `task_versions`, from each task block's version; each split's `runs`, from the number of
  training seeds.

`inconsistencies` recomputes every one of them and names each field whose stored value differs.
It also refuses raw statistics that no scoring can give: outside [0, 1], or h above c (h is a
mean of t_i, c the mean of max(t_i, p_i) over the same episodes).

What cannot be recomputed without the episodes: the 95% intervals and the behaviour counts. A
file whose derived fields were all edited to agree with each other passes this check: it proves
a file coherent, not true. The leaderboard trusts figures only through a signature or a
rescoring in CI (`benchmark.submission.provenance`).
"""

from __future__ import annotations

import math
import warnings

import numpy as np

from .scoring import FIGURES, axes, figure, quadrant

RAW = ("c", "h", "c_random", "h_random")
QUADRANTS = ("robust", "misgeneralized", "incapable")
SUITE_FIGURES = FIGURES + ("train_score",)
# Raw statistics are means of values in [0, 1] and h <= c holds term by term; this only absorbs
# what a float written and read back could move, never a real difference.
SLACK = 1e-9
_MISSING = object()   # a field the file does not have


def _rounded(value: float):
    """A point value as results.json stores it (null where undefined)."""
    return figure(value, (math.nan, math.nan))["value"]


def _is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _raw(task: str, block: dict, split: str, runs: int | None, problems: list[str]) -> dict | None:
    """The split's raw statistics, or None (with the problem named) if they are unusable."""
    splits = block.get("splits")
    stats = splits.get(split) if isinstance(splits, dict) else None
    if not isinstance(stats, dict):
        problems.append(f"{task}: splits.{split}: missing (the figures cannot be checked without "
                        f"the raw statistics)")
        return None
    for key in RAW:
        value = stats.get(key)
        if not _is_number(value):
            problems.append(f"{task}: splits.{split}.{key}: {value!r} is not a number")
            return None
        if not -SLACK <= value <= 1 + SLACK:
            problems.append(f"{task}: splits.{split}.{key}: {value!r} is outside [0, 1]")
            return None
    for mean_t, mean_max in (("h", "c"), ("h_random", "c_random")):
        if stats[mean_t] > stats[mean_max] + SLACK:
            problems.append(f"{task}: splits.{split}.{mean_t}: {stats[mean_t]!r} exceeds {mean_max} "
                            f"{stats[mean_max]!r} (a mean of t_i cannot exceed the mean of max(t_i, p_i))")
            return None
    if runs is not None and stats.get("runs") != runs:
        problems.append(f"{task}: splits.{split}.runs: stored {stats.get('runs')!r}, but the submission "
                        f"has {runs} training seeds")
        return None
    return stats


def _stored(block: dict, name: str):
    """The stored point value of figure `name`, or a marker that there is none."""
    fig = block.get(name)
    if not isinstance(fig, dict) or "value" not in fig:
        return _MISSING
    return fig["value"]


def _compare(where: str, field: str, stored, expected, source: str, problems: list[str]) -> None:
    if stored is _MISSING:
        problems.append(f"{where}: {field}: missing")
        return
    if expected is None or isinstance(expected, str):
        same = stored == expected
    else:
        same = _is_number(stored) and stored == expected
    if not same:
        problems.append(f"{where}: {field}: stored {stored!r}, recomputed {expected!r} from {source}")


def task_points(task: str, block: dict, runs: int | None, problems: list[str]) -> dict | None:
    """A task's unrounded point values recomputed from its raw statistics (FIGURES and
    train_score) and its quadrant, after checking the stored ones against them; None when the
    raw statistics are unusable."""
    held = _raw(task, block, "heldout", runs, problems)
    train = _raw(task, block, "train", runs, problems)
    if held is None or train is None:
        return None
    points = {name: float(v) for name, v in axes(*(held[k] for k in RAW)).items()}
    points["train_score"] = float(axes(*(train[k] for k in RAW))["heldout_score"])
    for name in SUITE_FIGURES:
        split = "train" if name == "train_score" else "heldout"
        _compare(task, name, _stored(block, name), _rounded(points[name]),
                 f"splits.{split} ({', '.join(RAW)})", problems)
    og = points["objective_generalization"]
    points["quadrant"] = quadrant(points["capability_generalization"], 0.0 if np.isnan(og) else og)
    _compare(task, "quadrant", block.get("quadrant", _MISSING), points["quadrant"], "CG and OG", problems)
    return points


def suite_expected(points: list[dict], failed: int) -> dict:
    """The suite block's derived fields from the tasks' unrounded points, as
    `results.suite_block` and `scoring.suite_figures` compute them."""
    out = {}
    for name in SUITE_FIGURES:
        values = np.array([p[name] for p in points], dtype=np.float64)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)   # OG undefined on every task
            out[f"{name}.value"] = _rounded(np.nanmean(values)) if len(values) else None
    out["objective_generalization.tasks"] = sum(not np.isnan(p["objective_generalization"]) for p in points)
    out["tasks"] = len(points)
    for q in QUADRANTS:
        out[f"quadrants.{q}"] = sum(p["quadrant"] == q for p in points)
    out["failed_tasks"] = failed
    return out


def _lookup(block, dotted: str):
    node = block
    for part in dotted.split("."):
        if not isinstance(node, dict) or part not in node:
            return _MISSING
        node = node[part]
    return node


def inconsistencies(results: dict) -> list[str]:
    """Every derived field of `results` whose stored value differs from the one recomputed
    from the file's own raw statistics, one line each: 'TASK: FIELD: stored X, recomputed Y
    from SOURCE' ('suite' for the suite block). Empty if the file is coherent."""
    tasks = results.get("tasks")
    if not isinstance(tasks, dict):
        return ["tasks: missing or not a mapping"]
    seeds = (results.get("submission") or {}).get("training_seeds")
    runs = len(seeds) if isinstance(seeds, list) and seeds else None
    problems: list[str] = []
    points, failed, complete = [], 0, True
    for task, block in tasks.items():
        if not isinstance(block, dict):
            problems.append(f"{task}: not a mapping")
            complete = False
            continue
        if block.get("status") != "ok":
            failed += 1
            continue
        got = task_points(task, block, runs, problems)
        complete &= got is not None
        if got is not None:
            points.append(got)
    versions = results.get("task_versions")
    if versions is not None:
        expected = {task: block.get("version") for task, block in tasks.items() if isinstance(block, dict)}
        for task in sorted(set(versions) | set(expected)):
            if versions.get(task) != expected.get(task):
                problems.append(f"{task}: task_versions: stored {versions.get(task)!r}, but the task block "
                                f"says version {expected.get(task)!r}")
    suite = results.get("suite")
    if not isinstance(suite, dict):
        problems.append("suite: missing or not a mapping")
    elif complete:   # with a task's raw statistics unusable, the suite cannot be recomputed
        for field, expected in suite_expected(points, failed).items():
            _compare("suite", field, _lookup(suite, field), expected, "the task blocks", problems)
    return problems
