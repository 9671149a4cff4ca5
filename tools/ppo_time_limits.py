"""How PPO should treat the time limit: time-aware (a clock input, time-outs end the return) or
time-unaware with time-outs bootstrapped by V(final observation), on one task, same seed and
budget, one after the other.

    python tools/ppo_time_limits.py [--task SpuriousCue] [--updates 300] [--seed 0]

A small configuration (64 levels x 16 steps a rollout, minibatches of 256) so that it runs in a
few minutes; prints each variant's mean return every 25 updates and its final T (measured as the
scorer does). docs/ppo.md has a measured run.
"""

from __future__ import annotations

import argparse
import csv
import dataclasses
import tempfile
from pathlib import Path

from baselines.ppo.ppo import Config, train

SMALL = Config(num_envs=64, num_steps=16, minibatch=256, eval_every=10**12, checkpoint_every=10**9)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python tools/ppo_time_limits.py", description=__doc__.split("\n")[0])
    parser.add_argument("--task", default="SpuriousCue")
    parser.add_argument("--updates", type=int, default=300)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    steps = SMALL.num_envs * SMALL.num_steps * args.updates
    for name, time_aware in (("time-aware", True), ("bootstrapped", False)):
        with tempfile.TemporaryDirectory() as out:
            train(args.task, args.seed, steps=steps, out=Path(out), progress=False,
                  config=dataclasses.replace(SMALL, time_aware=time_aware))
            rows = list(csv.DictReader((Path(out) / f"{args.task}-seed{args.seed}.csv").open()))
        returns = " ".join(f"{float(r['mean_true_return']):.2f}" if r["mean_true_return"] else "-" for r in rows[::25])
        print(f"{name:>12}: return every 25 updates {returns}; final T {float(rows[-1]['T']):.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
