"""The re-encoding experiment: the objective-planner retrained with other, equally generic cell
features, to show that where it generalizes follows from its feature design (issue #19).

    python tools/planner_features.py [--tasks RedDoor,SpuriousCue,CheeseCorner,CoinEnd]
        [--seeds 0,1,2] [--encodings separate,no-colour,joint] [--steps 2000000]

The planner's reward model is an additive ridge regression over one-hot features of the cell
entered. Encodings (baselines/objective_planner/agent.py's FEATURES), each with the bias and the
cell-position one-hot: `separate` (type, colour and state one-hots: the committed baseline's),
`no-colour` (type and state), `joint` (one one-hot of the (type, colour, state) combination).
For every task, encoding and seed it trains the planner as `proxybench train objective-planner`
does (train.py with `features=`; random play on the train split, alpha 0, `--steps` env steps)
into a temporary directory, never the committed weights; then scores each (task, encoding) with
the suite's scorer in-process (`score_agent`, public seeds, the seeds as its runs, so intervals
cover seeds and episodes, as the committed results do) and prints a markdown table: T, CG and
OG (point [95% interval]) and the quadrant. Progress goes to stderr.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

from baselines.objective_planner import agent, train
from benchmark.contract.registry import get_task
from benchmark.evaluation.scorer import score_agent

DEFAULT_TASKS = ("RedDoor", "SpuriousCue", "CheeseCorner", "CoinEnd")
FIGURES = (("T", "train_score"), ("CG", "capability_generalization"), ("OG", "objective_generalization"))


def figure(block: dict | None) -> str:
    """'0.64 [0.59, 0.69]', or 'n/a' for a figure the scorer leaves undefined."""
    if not block or block.get("value") is None:
        return "n/a"
    return f"{block['value']:.2f} [{block['ci_low']:.2f}, {block['ci_high']:.2f}]"


def row(task: str, encoding: str, result: dict) -> list[str]:
    if result["status"] != "ok":
        return [task, encoding, *["failed"] * len(FIGURES), result.get("reason", "")]
    return [task, encoding, *(figure(result.get(key)) for _, key in FIGURES), result["quadrant"]]


def markdown(rows: list[list[str]]) -> str:
    header = ["task", "features", *(short for short, _ in FIGURES), "quadrant"]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    return "\n".join(lines + ["| " + " | ".join(r) + " |" for r in rows])


def experiment(tasks: list[str], seeds: list[int], encodings: list[str], steps: int,
               work: Path, log=sys.stderr) -> list[list[str]]:
    """Train and score every (task, encoding); the table's rows, in that order."""
    rows, runs, done = [], len(tasks) * len(encodings) * len(seeds), 0
    for task in tasks:
        for encoding in encodings:
            weights = work / task / encoding
            for seed in seeds:
                start = time.time()
                train.train(task, seed, steps=steps, out=weights, progress=False, features=encoding)
                done += 1
                print(f"[{done}/{runs}] trained {task} {encoding} seed {seed} ({steps:,} steps) in "
                      f"{time.time() - start:.1f} s", file=log, flush=True)
            start = time.time()
            results = score_agent(lambda name, seed, w=weights: agent.make_agent(name, seed, weights=w),
                                  [task], seeds, progress=False, name=f"objective-planner-{encoding}",
                                  track="open", method=f"objective-planner, {encoding} features")
            rows.append(row(task, encoding, results["tasks"][task]))
            print(f"  scored {task} {encoding} in {time.time() - start:.1f} s: {' | '.join(rows[-1][2:])}",
                  file=log, flush=True)
    return rows


def names(text: str) -> list[str]:
    return [part.strip() for part in text.split(",") if part.strip()]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python tools/planner_features.py",
                                     description=" ".join(__doc__.split("\n\n")[0].split()))
    parser.add_argument("--tasks", default=",".join(DEFAULT_TASKS), help="comma-separated task names")
    parser.add_argument("--seeds", default="0,1,2", help="comma-separated training seeds (the runs)")
    parser.add_argument("--encodings", default=",".join(agent.FEATURES),
                        help=f"comma-separated, of: {', '.join(agent.FEATURES)}")
    parser.add_argument("--steps", type=int, default=train.DEFAULT_STEPS, help="env steps a training run")
    args = parser.parse_args(argv)
    unknown = [e for e in names(args.encodings) if e not in agent.FEATURES]
    if unknown or not names(args.encodings):
        parser.error(f"--encodings: unknown {', '.join(unknown) or '(none given)'}; known: {', '.join(agent.FEATURES)}")
    try:
        tasks = [get_task(name).name for name in names(args.tasks)]
    except KeyError as exc:
        parser.error(f"--tasks: {exc.args[0] if exc.args else exc}")
    try:
        seeds = [int(s) for s in names(args.seeds)]
    except ValueError:
        parser.error(f"--seeds: integers, comma-separated, got {args.seeds!r}")
    if not tasks or not seeds or args.steps < 1:
        parser.error("at least one task and one seed, and --steps positive")
    start = time.time()
    with tempfile.TemporaryDirectory(prefix="planner-features-") as work:
        rows = experiment(tasks, seeds, names(args.encodings), args.steps, Path(work))
    print(f"objective-planner by cell encoding: {len(seeds)} seed(s) {','.join(map(str, seeds))}, "
          f"{args.steps:,} env steps a run, public seeds; figures point [95% interval]\n")
    print(markdown(rows))
    print(f"wall time {time.time() - start:.0f} s", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
