"""Learning curves of a baseline's committed runs: T against env steps, every seed, one figure a
task: `python -m benchmark.reporting.training_curves ppo [--root .]`.

Reads the curve CSVs a trainer writes beside its weights (`<Task>-seed<S>.csv`, with columns
`env_steps`, `wall_s` and `T`, T filled where it was measured) and writes
`docs/training/<baseline>-<Task>.png`, plus a table per task of each run's env steps and wall
time to its first T >= 0.8 (printed, and returned for docs).
"""

from __future__ import annotations

import argparse
import re
from pathlib import Path

import pandas as pd

from benchmark.training import baseline_folder

TARGET = 0.8


def runs(weights: Path) -> dict[str, dict[int, pd.DataFrame]]:
    """Task -> seed -> its curve (the rows where T was measured)."""
    out: dict[str, dict[int, pd.DataFrame]] = {}
    for csv in sorted(weights.glob("*-seed*.csv")):
        match = re.fullmatch(r"(.+)-seed(\d+)", csv.stem)
        if match:
            table = pd.read_csv(csv)
            measured = table[table["T"].notna()]
            if len(measured):   # a run too young to have measured T yet has nothing to draw
                out.setdefault(match[1], {})[int(match[2])] = measured
    return out


def time_to_target(curve: pd.DataFrame) -> tuple[int | None, float | None]:
    """(env steps, wall seconds) of the first measurement with T >= TARGET; (None, None) if none."""
    hit = curve[curve["T"] >= TARGET]
    return (int(hit["env_steps"].iloc[0]), float(hit["wall_s"].iloc[0])) if len(hit) else (None, None)


def plot(task: str, curves: dict[int, pd.DataFrame], baseline: str, path: Path) -> None:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 3.6))
    for seed, curve in sorted(curves.items()):
        ax.plot(curve["env_steps"] / 1e6, curve["T"], "o-", ms=3, label=f"seed {seed}")
    ax.axhline(TARGET, color="grey", lw=0.8, ls="--")
    ax.set(ylim=(-0.03, 1.03), xlabel="env steps (millions)", ylabel="T (train score)", title=f"{baseline} on {task}")
    ax.legend(loc="lower right")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=90, metadata={"Software": None})
    plt.close(fig)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("baseline", help="a baseline whose trainer writes curve CSVs, e.g. ppo")
    parser.add_argument("--root", default=".")
    args = parser.parse_args(argv)
    root = Path(args.root)
    for task, curves in runs(baseline_folder(args.baseline) / "weights").items():
        plot(task, curves, args.baseline, root / "docs" / "training" / f"{args.baseline}-{task}.png")
        for seed, curve in sorted(curves.items()):
            steps, wall = time_to_target(curve)
            final = curve["T"].iloc[-1] if len(curve) else float("nan")
            reach = f"T >= {TARGET} at {steps:,} steps, {wall:.0f} s" if steps else f"T never >= {TARGET}"
            print(f"{args.baseline} {task} seed {seed}: final T {final:.3f}; {reach}")


if __name__ == "__main__":
    main()
