"""`proxybench curve`: how much disambiguating training data fixes misgeneralization?

    proxybench curve BASELINE --task T --alphas 0,0.01,0.02,0.05,0.1,0.2 --seeds 3

For every alpha (the fraction of train levels drawn held-out style) and training seed, train the
baseline (`proxybench train` underneath), then score each alpha as one submission whose runs are
the seeds, so the intervals cover seeds and episodes: the baseline's agent is scored in memory
(`score_agent`) with the alpha's weights. Work lives in `--work` (default
`~/.cache/proxybench/curves/<baseline>-<task>`): per alpha, a folder of weights and the results
scored from them. A job whose weights exist is not trained again and an alpha whose results are
newer than its weights is not scored again, so an interrupted sweep resumes where it stopped.

Jobs run in parallel on the local cores by default (a process pool), or on a Ray cluster with
`--ray ADDRESS` (the `ray` extra). Output: `--out` (default docs/curves) gets
`<baseline>-<task>.csv` (one row per alpha: the training budget and the episodes a run trained
on (`train_episodes`, where the baseline's learning curve counts them), CG, OG, held-out score and T
with intervals, and the task's fingerprint, which `proxybench leaderboard --check` compares with
the current one) and a `.png` plot of CG and OG against alpha. The table also holds each training
seed's own CG and OG (`..._by_seed`, the seed scored alone), from which `crossing_interval`
bootstraps where OG crosses a level, and what the held-out episodes did: the shares that reach
only the true goal, only the proxy, both or neither (`true_only` ... `neither`, as in results'
`behaviour`).
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import numpy as np
import pandas as pd

from benchmark.contract.registry import get_task
from benchmark.evaluation.cache import cache_dir
from benchmark.evaluation.results import write_json_atomic
from benchmark.evaluation.scorer import score_agent
from benchmark.training import baseline_module, declared_steps, run_finished, run_jobs, trainable_baselines

from .staleness import current_fingerprints, fingerprint_text, results_staleness

DEFAULT_ALPHAS = (0.0, 0.01, 0.02, 0.05, 0.1, 0.2)
COLUMNS = ("capability_generalization", "objective_generalization", "heldout_score", "train_score")
BY_SEED = ("capability_generalization", "objective_generalization")   # also kept per training seed
BEHAVIOUR = ("true_only", "proxy_only", "both", "neither")   # shares of held-out episodes (results' behaviour)


def alpha_folder(work: Path, alpha: float) -> Path:
    return work / f"alpha-{alpha:g}"


def score_alpha(baseline: str, task: str, alpha: float, seeds: list[int], weights: Path) -> dict:
    """One alpha's results: the baseline's agent with these weights, its runs the seeds."""
    agent = baseline_module(baseline, "agent")
    return score_agent(lambda task_name, seed: agent.make_agent(task_name, seed, weights=weights), [task],
                       seeds, progress=False, name=f"{baseline}-alpha-{alpha:g}", track="open")


def training_episodes(weights: Path, task: str, seeds: list[int]) -> float:
    """Mean episodes a run trained on, from its learning curve (`<Task>-seed<S>.csv`, an `episodes`
    column: the episodes finished in each update); NaN for a baseline that keeps no such curve.
    alpha times this is about how many disambiguating levels a run saw."""
    counts = []
    for seed in seeds:
        path = weights / f"{task}-seed{seed}.csv"
        curve = pd.read_csv(path) if path.exists() else pd.DataFrame()
        if "episodes" not in curve:
            return float("nan")
        counts.append(curve["episodes"].sum())
    return float(np.mean(counts))


def score_each_seed(baseline: str, task: str, alpha: float, seeds: list[int], weights: Path) -> dict:
    """{seed: {figure: value}} for BY_SEED, each training seed's run scored alone."""
    out = {}
    for seed in seeds:
        fig = score_alpha(baseline, task, alpha, [seed], weights)["tasks"][task]
        out[str(seed)] = {name: fig[name]["value"] for name in BY_SEED}
    return out


def sweep(baseline: str, task: str, alphas: list[float], seeds: list[int], *, steps: int | None = None,
          work: Path | None = None, out: Path = Path("docs/curves"), ray_address: str | None = None,
          workers: int | None = None) -> pd.DataFrame:
    task, out = get_task(task).name, Path(out)
    for alpha in alphas:
        get_task(task, alpha=alpha)   # the task checks each alpha before any job starts
    if baseline not in trainable_baselines():
        raise KeyError(f"unknown baseline {baseline!r}; trainable: {', '.join(trainable_baselines())}")
    work = Path(work or cache_dir() / "curves" / f"{baseline}-{task}")
    folders = {alpha: alpha_folder(work, alpha) for alpha in alphas}
    for folder in folders.values():
        (folder / "weights").mkdir(parents=True, exist_ok=True)
    jobs = [(baseline, task, alpha, seed, str(folders[alpha] / "weights"), steps)
            for alpha in alphas for seed in seeds if not run_finished(folders[alpha] / "weights", task, seed)]
    print(f"{baseline} on {task}: {len(alphas) * len(seeds) - len(jobs)} of {len(alphas) * len(seeds)} "
          f"runs already trained; training {len(jobs)}", file=sys.stderr)
    run_jobs(jobs, workers or os.cpu_count() or 1, ray_address)
    rows, current = [], current_fingerprints([task])
    for alpha in alphas:
        folder = folders[alpha]
        results_file = folder / "results.json"
        newest = max(p.stat().st_mtime for p in (folder / "weights").iterdir())
        fresh = (results_file.exists() and results_file.stat().st_mtime > newest
                 and not results_staleness(results := json.loads(results_file.read_text()), current))
        if not fresh:   # never scored, weights newer, or the task or scoring changed since
            print(f"  scoring alpha {alpha:g}", file=sys.stderr)
            results = score_alpha(baseline, task, alpha, seeds, folder / "weights")
            write_json_atomic(results_file, results)
        seeds_file = folder / "results-by-seed.json"
        by_seed = json.loads(seeds_file.read_text()) if fresh and seeds_file.exists() else {}
        if sorted(by_seed) != sorted(str(s) for s in seeds):
            by_seed = score_each_seed(baseline, task, alpha, seeds, folder / "weights")
            write_json_atomic(seeds_file, by_seed)
        fig = results["tasks"][task]
        row = {"baseline": baseline, "task": task, "alpha": alpha, "seeds": len(seeds),
               "env_steps": int(steps) if steps is not None else declared_steps(baseline, task),
               "train_episodes": training_episodes(folder / "weights", task, seeds)}
        for name in COLUMNS:
            row[name], row[f"{name}_low"], row[f"{name}_high"] = (fig[name]["value"], fig[name]["ci_low"],
                                                                  fig[name]["ci_high"])
        for name in BY_SEED:
            row[f"{name}_by_seed"] = " ".join("nan" if (v := by_seed[str(s)][name]) is None else f"{v:.4f}"
                                             for s in seeds)      # None: OG undefined (CG too low)
        for name in BEHAVIOUR:
            row[name] = fig["behaviour"][name]["value"]
        row["quadrant"] = fig["quadrant"]
        row["fingerprint"] = fingerprint_text(fig["fingerprint"])
        rows.append(row)
    table = pd.DataFrame(rows)
    out.mkdir(parents=True, exist_ok=True)
    stem = out / f"{baseline}-{task}"
    tmp = stem.with_suffix(".csv.tmp")
    table.to_csv(tmp, index=False, float_format="%.4f")
    tmp.replace(stem.with_suffix(".csv"))
    plot(table, stem.with_suffix(".png"))
    return table


def plot(table: pd.DataFrame, path: Path) -> None:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 4))
    x = table["alpha"].to_numpy()
    xs = [a if a > 0 else min([v for v in x if v > 0] or [0.01]) / 3 for a in x]   # alpha 0 on a log axis
    for name, short, colour in (("capability_generalization", "CG", "tab:blue"),
                                ("objective_generalization", "OG", "tab:red")):
        y = table[name].astype(float)
        lo, hi = table[f"{name}_low"].astype(float), table[f"{name}_high"].astype(float)
        ax.plot(xs, y, "o-", color=colour, label=short)
        ax.fill_between(xs, lo, hi, color=colour, alpha=0.2)
    ax.axhline(0.5, color="grey", lw=0.8, ls="--")
    ax.set_xscale("log")
    ax.set_xticks(xs, [f"{a:g}" for a in x])
    ax.set(ylim=(-0.03, 1.03), xlabel="alpha: fraction of disambiguating train levels",
           ylabel="held-out figure (95% interval)",
           title=f"{table['baseline'].iloc[0]} on {table['task'].iloc[0]} ({table['seeds'].iloc[0]} seeds"
                 + (f", {int(table['env_steps'].iloc[0]):,} steps a run)" if "env_steps" in table else ")"))
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=90, metadata={"Software": None})
    plt.close(fig)


def crossing(table: pd.DataFrame, figure: str = "objective_generalization", level: float = 0.5) -> float | None:
    """The smallest alpha whose point estimate reaches `level` (None if none does)."""
    hit = table[table[figure].astype(float) >= level]
    return None if hit.empty else float(hit["alpha"].min())


def crossing_interval(table: pd.DataFrame, figure: str = "objective_generalization", level: float = 0.5,
                      n_boot: int = 2000, seed: int = 0) -> tuple[float | None, float | None]:
    """A 95% interval for `crossing`, bootstrapping training seeds: each replicate resamples every
    alpha's seeds with replacement (alphas apart: their runs are separate), takes the mean of the
    resampled seeds' own figures, and finds its smallest alpha reaching `level` (a mean over a
    seed whose figure is undefined, nan, does not reach it). Bounds are alphas
    of the table; None for a bound past the largest alpha (the replicate never crosses)."""
    table = table.sort_values("alpha")
    per_seed = [np.array(str(v).split(), float) for v in table[f"{figure}_by_seed"]]
    rng = np.random.default_rng(seed)
    means = np.stack([rng.choice(v, size=(n_boot, len(v))).mean(1) for v in per_seed], 1)   # (n_boot, alphas)
    hit = means >= level
    index = np.where(hit.any(1), hit.argmax(1), len(per_seed))                # len(...) = never
    lo, hi = (int(np.percentile(index, q, method="nearest")) for q in (2.5, 97.5))
    alphas = table["alpha"].astype(float).tolist() + [None]
    return alphas[lo], alphas[hi]
