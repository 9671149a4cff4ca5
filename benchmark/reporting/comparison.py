"""`python -m benchmark.reporting.comparison`: the mitigation baselines against standard PPO.

    python -m benchmark.reporting.comparison [--tasks CoinEnd,RedDoor] [--out docs/comparison.csv]

Each pair compares a method with what it adds to, at the same alpha, env-step budget, network
and hyperparameters (the baselines' manifests declare them):

- ppo-dr against ppo: what a share alpha of disambiguating training levels buys over none;
- ppo-plr and ppo-plr-pvl against ppo-dr: what choosing the levels by regret buys over drawing
  them at random from the same alpha-mixed generator.

Both agents of a pair are loaded from their committed weights in this process and scored on the
public level seeds with the same training seeds, so the difference of each figure (T, CG, OG, H)
gets a paired bootstrap interval (benchmark/evaluation/paired.py: the math). A pair is compared
on the tasks where both have weights for every declared seed; the others are listed as not run.
The table (one row per task, pair and figure) is what docs/analysis.md reads.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import pandas as pd

from benchmark.contract.registry import get_task
from benchmark.evaluation.fingerprint import task_fingerprint
from benchmark.evaluation.paired import COMPARED, paired_difference
from benchmark.evaluation.rollout import DEFAULT_BATCH
from benchmark.evaluation.scorer import InProcess, play_and_score
from benchmark.evaluation.seeds import split_seeds
from benchmark.submission.manifest import load_manifest
from benchmark.training import baseline_folder, baseline_module

from .staleness import fingerprint_text

PAIRS = (("ppo-dr", "ppo"), ("ppo-plr", "ppo-dr"), ("ppo-plr-pvl", "ppo-dr"))
OUT = Path("docs/comparison.csv")


def has_runs(name: str, task: str, seeds: list[int]) -> bool:
    weights = baseline_folder(name) / "weights"
    return all((weights / f"{task}-seed{s}.pt").exists() for s in seeds)


def split_scores(name: str, task: str, seeds: list[int]) -> dict:
    """split -> SplitScore of the baseline's committed runs of `task`, on the public seeds."""
    agent = baseline_module(name, "agent")
    task_obj = get_task(task)
    levels = {task: split_seeds(task_obj, None, "public", None)}
    _, per_task = play_and_score(InProcess(agent.make_agent, DEFAULT_BATCH), [task_obj], seeds, levels,
                                 progress=False, label=name)
    if task not in per_task:
        raise RuntimeError(f"{name} on {task}: the agent failed while playing")
    return per_task[task]


def compare(tasks: list[str], pairs=PAIRS) -> pd.DataFrame:
    rows = []
    for method, against in pairs:
        manifest = load_manifest(baseline_folder(method))
        seeds, alpha = list(manifest.seeds), manifest.alpha
        for task in tasks:
            if (manifest.tasks and task not in manifest.tasks) or not (has_runs(method, task, seeds) and has_runs(against, task, seeds)):
                print(f"{method} against {against} on {task}: not run (weights missing)", file=sys.stderr)
                continue
            print(f"{method} against {against} on {task}: scoring both", file=sys.stderr)
            figures = paired_difference(split_scores(method, task, seeds), split_scores(against, task, seeds))
            fingerprint = fingerprint_text(task_fingerprint(get_task(task)))   # once: it replays references
            for short in COMPARED:
                row = {"task": task, "method": method, "against": against, "alpha": alpha, "seeds": len(seeds),
                       "figure": short}
                for side, key in (("method_figure", "a"), ("against_figure", "b"), ("difference", "difference")):
                    fig = figures[short][key]
                    row[side], row[f"{side}_low"], row[f"{side}_high"] = fig["value"], fig["ci_low"], fig["ci_high"]
                row["fingerprint"] = fingerprint
                rows.append(row)
    return pd.DataFrame(rows)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", default="CoinEnd,CheeseCorner,RedDoor,KeysChests")
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args(argv)
    table = compare([get_task(t).name for t in args.tasks.split(",")])
    args.out.parent.mkdir(parents=True, exist_ok=True)
    tmp = args.out.with_suffix(".csv.tmp")
    table.to_csv(tmp, index=False, float_format="%.4f")
    tmp.replace(args.out)
    print(f"wrote {args.out} ({len(table)} rows)", file=sys.stderr)


if __name__ == "__main__":
    main()
