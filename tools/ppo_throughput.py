"""Learning per second: end-to-end PPO training (rollout + update) through the suite's own PPO
(baselines/ppo/ppo.py) and through stable-baselines3, same network, hyperparameters, task, seed
and budget, timed in the same run.

    python tools/ppo_throughput.py [--task RedDoor] [--steps 131072] [--rounds 3] [--seed 0]
                                   [--format table|json] [--time-unaware]

After an untimed warm-up (one update of each, so that neither pays for first calls), each round
trains both from scratch for --steps env steps (rounded down to whole updates of 256 levels x 64
steps), native then SB3 in odd rounds and SB3 then native in even ones, so that machine noise
falls on both alike; reported are each round's env steps/s, the median per trainer and the ratio
of the medians, native / SB3. One torch thread each. Progress goes to stderr.

What is timed. Native: the real `ppo.train()` with `CONFIG` (its checkpoints and measurements of
T pushed beyond the budget, into a temporary --out); its rate is the one its learning curve
records for the last update, from after the env is built and reset to the end of the last update.
Its end-of-run measurement of T (after that clock) is skipped. SB3: `stable_baselines3.PPO.learn`
on `ProxySB3VecEnv`, from the callback's `on_training_start` (after `learn` has reset the env) to
its `on_training_end`. Building the env and the model is outside both clocks (JSON: `untimed_s`).

The same network: SB3's features extractor (`NativeFeatures`) is ppo.py's `Encoder(NET)`; it takes
the raw codes SB3 hands over (as float32), runs ppo.py's `encode` (the egocentric roll into int
cell indices) in its forward, and reads a zero clock (SB3 counts no per-env steps: the
time-aware input reads 0, which costs the same). `net_arch=[]` leaves SB3's heads as
Linear(128, 5) and Linear(128, 1), as ActorCritic's; the parameter counts are checked equal and
printed. The same hyperparameters: CONFIG's levels, rollout length, epochs, minibatch, lr (and its
linear annealing, as an SB3 schedule), gamma,
GAE lambda, clip (also on the value, `clip_range_vf`), entropy and value coefficients, gradient
clip and Adam's eps (1e-5); advantages normalised per minibatch in both.

What differs by design, and so is part of what the ratio measures:
- Observations. The native PPO encodes each observation once, at collection, and stores int16
  cell grids (338 bytes a level-step); SB3's rollout buffer stores the raw uint8 codes (507
  bytes: SB3 2.9 keeps the observation space's dtype, SB3 1.x stored float32), copies them flat
  before the epochs, and converts them to float32 and encodes them again in every forward: at
  collection, and in each minibatch of every epoch.
- Time limits. SB3 bootstraps a time-out with V(final observation), one single-row forward per
  ended level (its own loop); the native PPO (time-aware, its default) ends the return at a
  time-out and computes nothing. `--time-unaware` runs the native PPO with `time_aware=False`
  (no clock, time-outs bootstrapped in one batched forward a step), SB3's treatment.
- SB3's per-step machinery: a list of info dicts from the adapter (SB3's VecEnv protocol), its
  callbacks, distribution objects and logger.
- Losses: SB3's value loss is MSE of the clipped prediction (the native PPO's is half the max of
  the clipped and unclipped squared errors); the same cost, a different scale.

No learning is compared (returns are not reported); at the same budget both do the same number of
updates and gradient steps, so env steps/s is learning per second.
"""

from __future__ import annotations

import argparse
import csv
import dataclasses
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path
from unittest import mock

import torch
from stable_baselines3 import PPO
from stable_baselines3.common.callbacks import BaseCallback
from stable_baselines3.common.torch_layers import BaseFeaturesExtractor

from baselines.ppo import ppo
from benchmark.contract.registry import get_task
from benchmark.envs.sb3 import ProxySB3VecEnv

TRAINERS = ("native", "sb3")


class NativeFeatures(BaseFeaturesExtractor):
    """ppo.py's `Encoder` as SB3's features extractor: raw codes in (float32 from SB3's buffer),
    `encode` in the forward, a zero clock."""

    def __init__(self, observation_space, net: str = ppo.NET):
        encoder = ppo.Encoder(net)
        super().__init__(observation_space, encoder.features)
        self.encoder = encoder

    def forward(self, observations: torch.Tensor) -> torch.Tensor:
        cells = ppo.encode(observations.numpy())
        return self.encoder(cells, torch.zeros(len(cells)))


def sb3_model(task: str, seed: int, config: ppo.Config, net: str = ppo.NET) -> PPO:
    """SB3 PPO with the native PPO's network and hyperparameters (`config`)."""
    env = ProxySB3VecEnv(task, config.num_envs, seed=seed)
    return PPO("MlpPolicy", env, n_steps=config.num_steps, batch_size=config.minibatch, n_epochs=config.epochs,
               learning_rate=(lambda remaining: config.lr * remaining) if config.anneal_lr else config.lr, gamma=config.gamma, gae_lambda=config.gae_lambda, clip_range=config.clip,
               clip_range_vf=config.clip, normalize_advantage=True, ent_coef=config.ent_coef,
               vf_coef=config.vf_coef, max_grad_norm=config.max_grad_norm, seed=seed, device="cpu", verbose=0,
               policy_kwargs=dict(features_extractor_class=NativeFeatures, features_extractor_kwargs=dict(net=net),
                                  net_arch=[], normalize_images=False, optimizer_kwargs=dict(eps=1e-5)))


def parameters(module: torch.nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


class _Clock(BaseCallback):
    """Times `learn` from the start of training (the env already reset) to its end."""

    def _on_training_start(self) -> None:
        self.start = time.perf_counter()

    def _on_step(self) -> bool:
        return True

    def _on_training_end(self) -> None:
        self.seconds = time.perf_counter() - self.start


def run_sb3(task: str, seed: int, steps: int, config: ppo.Config) -> dict:
    torch.set_num_threads(1)
    began = time.perf_counter()
    model = sb3_model(task, seed, config)
    clock = _Clock()
    model.learn(steps, callback=clock)
    total = time.perf_counter() - began
    model.get_env().close()
    if model.num_timesteps != steps:
        raise RuntimeError(f"SB3 trained {model.num_timesteps} env steps, not {steps}")
    return {"steps_per_s": steps / clock.seconds, "seconds": clock.seconds, "untimed_s": total - clock.seconds}


def _no_score(*args, **kwargs) -> float:
    return float("nan")


def run_native(task: str, seed: int, steps: int, config: ppo.Config) -> dict:
    began = time.perf_counter()
    with tempfile.TemporaryDirectory() as out, mock.patch.object(ppo, "train_score", _no_score):
        ppo.train(task, seed, steps=steps, out=Path(out), progress=False, config=config)
        rows = list(csv.DictReader((Path(out) / f"{task}-seed{seed}.csv").open()))
    total = time.perf_counter() - began
    if int(rows[-1]["env_steps"]) != steps:
        raise RuntimeError(f"the native PPO trained {rows[-1]['env_steps']} env steps, not {steps}")
    rate = float(rows[-1]["steps_per_s"])          # the curve's: all updates, from after the env's reset
    return {"steps_per_s": rate, "seconds": steps / rate, "untimed_s": total - steps / rate}


def measure(task: str, seed: int, steps: int, rounds: int, config: ppo.Config) -> dict:
    """Both trainers, alternating, `rounds` times; the report as a dict (what --format json prints)."""
    torch.set_num_threads(1)
    counts = {"native": parameters(ppo.ActorCritic(ppo.NET)),
              "sb3": parameters(sb3_model(task, seed, config).policy)}
    if counts["native"] != counts["sb3"]:
        raise RuntimeError(f"the networks differ: native {counts['native']} parameters, SB3 {counts['sb3']}")
    runs = {"native": run_native, "sb3": run_sb3}
    print("warm-up: one update of each, untimed", file=sys.stderr, flush=True)
    for name in TRAINERS:
        runs[name](task, seed, config.num_envs * config.num_steps, config)
    records = []
    for r in range(rounds):
        order = TRAINERS if r % 2 == 0 else TRAINERS[::-1]
        record = {"round": r + 1, "order": list(order)}
        for name in order:
            record[name] = runs[name](task, seed, steps, config)
            print(f"round {r + 1}/{rounds} {name:>6}: {record[name]['steps_per_s']:,.0f} env steps/s "
                  f"({record[name]['seconds']:.1f} s timed, {record[name]['untimed_s']:.1f} s untimed)",
                  file=sys.stderr, flush=True)
        records.append(record)
    median = {name: statistics.median(rec[name]["steps_per_s"] for rec in records) for name in TRAINERS}
    import stable_baselines3
    return {
        "task": task, "seed": seed, "steps": steps, "num_envs": config.num_envs, "num_steps": config.num_steps,
        "time_aware": config.time_aware, "net": ppo.NET, "torch_threads": torch.get_num_threads(),
        "versions": {"torch": torch.__version__, "stable_baselines3": stable_baselines3.__version__},
        "parameters": counts,
        "rounds": [{"round": rec["round"], "order": rec["order"],
                    **{f"{name}_{key}": round(rec[name][key], 3) for name in TRAINERS for key in rec[name]}}
                   for rec in records],
        "native_steps_per_s": round(median["native"], 1),
        "sb3_steps_per_s": round(median["sb3"], 1),
        "ratio": round(median["native"] / median["sb3"], 3),
    }


def print_table(report: dict) -> None:
    print(f"{report['task']}, seed {report['seed']}: {report['steps']:,} env steps per trainer per round "
          f"({report['num_envs']} levels x {report['num_steps']} steps an update), {report['net']}, "
          f"{report['torch_threads']} torch thread, native time-aware {report['time_aware']}; "
          f"torch {report['versions']['torch']}, stable-baselines3 {report['versions']['stable_baselines3']}")
    print(f"{'round':<8}{'order':<14}{'native steps/s':>16}{'sb3 steps/s':>14}")
    for rec in report["rounds"]:
        print(f"{rec['round']:<8}{', '.join(rec['order']):<14}{rec['native_steps_per_s']:>16,.0f}"
              f"{rec['sb3_steps_per_s']:>14,.0f}")
    print(f"{'median':<22}{report['native_steps_per_s']:>16,.0f}{report['sb3_steps_per_s']:>14,.0f}")
    print(f"{'parameters':<22}{report['parameters']['native']:>16,}{report['parameters']['sb3']:>14,}")
    print(f"native / sb3: {report['ratio']:.2f}x")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python tools/ppo_throughput.py", description=__doc__.split("\n")[0])
    parser.add_argument("--task", default="RedDoor")
    parser.add_argument("--steps", type=int, default=ppo.CONFIG.num_envs * ppo.CONFIG.num_steps * 8,
                        help="env steps per trainer per round, rounded down to whole updates (default 8 updates)")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--format", choices=("table", "json"), default="table")
    parser.add_argument("--time-unaware", action="store_true",
                        help="the native PPO without its clock, bootstrapping time-outs as SB3 does")
    parser.add_argument("--num-envs", type=int, default=ppo.CONFIG.num_envs, help=argparse.SUPPRESS)  # tests only
    args = parser.parse_args(argv)
    config = dataclasses.replace(ppo.CONFIG, num_envs=args.num_envs, time_aware=not args.time_unaware,
                                 eval_every=10**15, checkpoint_every=10**9)
    batch = config.num_envs * config.num_steps
    if args.steps < batch or args.rounds < 1 or args.num_envs < 1:
        print(f"ppo_throughput: error: --steps must be at least one update ({batch:,}) and --rounds at least 1",
              file=sys.stderr)
        return 1
    try:
        task = get_task(args.task).name
    except KeyError as error:
        print(f"ppo_throughput: error: {error.args[0]}", file=sys.stderr)
        return 1
    steps = args.steps // batch * batch
    report = measure(task, args.seed, steps, args.rounds, config)
    if args.format == "json":
        print(json.dumps(report, indent=2))
    else:
        print_table(report)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
