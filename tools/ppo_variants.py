"""Compare settings of the `ppo` baseline side by side: the same task, seed and budget, each
variant a change to ppo.py's CONFIG; learning judged on the train split only (standard track).

    python tools/ppo_variants.py --task RedDoor --steps 12000000 \\
        --variant lr=5e-4,anneal_lr=false --variant lr=1e-3,anneal_lr=true [--jobs 2]
    python tools/ppo_variants.py --task SpuriousCue --small --steps 307200 \\
        --variant time_aware=true --variant time_aware=false

Each variant is a full `ppo.train()` run (into --out, default a temporary folder), so a variant
equal to CONFIG is exactly the committed run of that task, seed and budget, and any variant's
first N steps are the same whatever the budget when nothing in it depends on the budget (lr
annealing does). `--small` shrinks the run (64 levels x 16 steps a rollout, minibatches of 256)
for quick questions. Printed per variant: T on the train split's public seeds (as the scorer
measures it) at each measurement, the mean episode return at the same points, the final T and
the wall time. Runs in parallel with --jobs (one core each): its wall times then share the
machine; compare variants by env steps.

`--uncharged` is a diagnostic, not a setting: the learner sees every negative per-step reward
replaced by 0 (a key picked up, a wrong beacon), while T and the mean return are still the
task's true ones. Whether the costs met on the way are what stops a learner (docs/ppo.md):

    python tools/ppo_variants.py --task KeysChests --steps 8000000 --variant "" --uncharged
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import dataclasses
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np

from baselines.ppo.ppo import CONFIG, Config, train
from benchmark.envs.env import ProxyVectorEnv

SMALL = dict(num_envs=64, num_steps=16, minibatch=256)


def parse_variant(text: str) -> dict:
    """'lr=5e-4,anneal_lr=false' -> {'lr': 0.0005, 'anneal_lr': False}, typed by Config's fields."""
    fields = {f.name: f.type for f in dataclasses.fields(Config)}
    changes = {}
    for item in filter(None, text.split(",")):
        name, _, value = item.partition("=")
        if name not in fields or not value:
            raise ValueError(f"--variant {text!r}: {item!r} is not NAME=VALUE with NAME a Config field "
                             f"({', '.join(fields)})")
        kind = fields[name] if isinstance(fields[name], str) else fields[name].__name__
        if kind == "bool":
            if value.lower() not in ("true", "false"):
                raise ValueError(f"--variant {text!r}: {name} takes true or false, not {value!r}")
            changes[name] = value.lower() == "true"
        else:
            changes[name] = {"int": int, "float": float}[kind](value)
    return changes


_charged_step = ProxyVectorEnv.step


def _uncharged_step(self, actions):
    obs, reward, terminated, truncated, info = _charged_step(self, actions)
    return obs, np.maximum(reward, 0.0), terminated, truncated, info   # info keeps the true reward


@contextlib.contextmanager
def uncharged_rewards(on: bool = True):
    """While open (and `on`), every native vector env hands its learner max(reward, 0)."""
    ProxyVectorEnv.step = _uncharged_step if on else _charged_step
    try:
        yield
    finally:
        ProxyVectorEnv.step = _charged_step


def run_variant(task: str, seed: int, steps: int, changes: dict, out: str, uncharged: bool = False) -> dict:
    start = time.time()
    with uncharged_rewards(uncharged):
        train(task, seed, steps=steps, out=Path(out), progress=False,
              config=dataclasses.replace(CONFIG, **changes))
    rows = list(csv.DictReader((Path(out) / f"{task}-seed{seed}.csv").open()))
    measured = [r for r in rows if r["T"]]
    return {"T": [(int(r["env_steps"]), float(r["T"]), r["mean_true_return"]) for r in measured],
            "seconds": time.time() - start}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python tools/ppo_variants.py", description=__doc__.split("\n")[0])
    parser.add_argument("--task", default="RedDoor")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--steps", type=int, required=True, help="env steps per variant")
    parser.add_argument("--variant", action="append", required=True, metavar="NAME=VALUE,...",
                        help="changes to CONFIG (repeat for each variant; an empty string is CONFIG itself)")
    parser.add_argument("--small", action="store_true", help="64 levels x 16 steps, minibatches of 256")
    parser.add_argument("--eval-every", type=int, default=None, help="env steps between measurements of T")
    parser.add_argument("--jobs", type=int, default=1)
    parser.add_argument("--out", default=None, help="keep each variant's run in OUT/<n> (default: discarded)")
    parser.add_argument("--uncharged", action="store_true",
                        help="diagnostic: the learner sees negative rewards as 0 (T stays the true one)")
    args = parser.parse_args(argv)
    try:
        variants = [parse_variant(v) for v in args.variant]
    except ValueError as exc:
        parser.error(str(exc))
    base = {**(SMALL if args.small else {}), **({"eval_every": args.eval_every} if args.eval_every else {})}
    with tempfile.TemporaryDirectory() as scratch:
        root = Path(args.out or scratch)
        jobs = [(args.task, args.seed, args.steps, {**base, **v}, str(root / str(i)), args.uncharged)
                for i, v in enumerate(variants)]
        print(f"{args.task}, seed {args.seed}, {args.steps:,} env steps, {len(jobs)} variants"
              + (", negative rewards uncharged" if args.uncharged else ""), file=sys.stderr)
        if args.jobs > 1:
            with ProcessPoolExecutor(max_workers=args.jobs) as pool:
                results = list(pool.map(run_variant, *zip(*jobs)))
        else:
            results = [run_variant(*job) for job in jobs]
    for text, result in zip(args.variant, results):
        points = "  ".join(f"{s / 1e6:g}M {t:.3f}" for s, t, _ in result["T"])
        returns = "  ".join(f"{float(r):.2f}" if r else "-" for _, _, r in result["T"])
        print(f"{text or 'CONFIG'}: T at {points}\n    mean return at the same points: {returns}\n"
              f"    final T {result['T'][-1][1]:.3f}, {result['seconds']:.0f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
