"""Where a PPO update's time goes: one minibatch's forward, backward, gradient clip and Adam step
for each network spec of the `ppo` baseline, on real observations, one torch thread.

    python tools/ppo_profile.py [--task RedDoor] [--batch 1024] [--repeats 10]
                                [--nets e8-c16s2-f128,m4-f64-f64,...]

Specs are read by ppo.py's `ActorCritic` (e<E> embedding, c<C>[s2] 3x3 convolution, stride 2
with s2, f<H> dense layer, r<H> a GRU core); `m4-f64-f64` is the 48,102-parameter egocentric MLP
of baselines/nets.py (ppo-sb3's and the old bc's), for comparison. The specs are timed in
rounds, each round timing every spec once in turn (after warm-up steps), and the median per spec
is reported, with the inference time of one rollout batch of 256: so machine noise falls on all
alike. Also printed: each spec's parameters and its cost relative to the first spec.
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np
import torch
from torch import nn

from baselines import nets
from baselines.ppo.ppo import ActorCritic, encode
from benchmark import grid as G
from benchmark.contract.registry import get_task

DEFAULT_NETS = "e8-c16s2-f128,e8-c16s2-f128-r128,e8-c16s2-f256,e8-c32s2-f256,e8-c16-c32s2-f256,m4-f64-f64"


class MLP(nn.Module):
    """nets.GridPolicy behind ActorCritic's call (cells are ignored: it reads the raw codes)."""

    def __init__(self):
        super().__init__()
        self.policy = nets.GridPolicy()

    def forward(self, obs, clock):
        return self.policy(obs)


def step_time(forward, parameters, actions, optimizer) -> float:
    """Seconds for one minibatch: forward, a PPO-sized loss, backward, gradient clip, Adam."""
    start = time.perf_counter()
    logits, value = forward()
    loss = nn.functional.cross_entropy(logits, actions) + value.pow(2).mean()
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    nn.utils.clip_grad_norm_(parameters, 0.5)
    optimizer.step()
    return time.perf_counter() - start


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python tools/ppo_profile.py", description=__doc__.split("\n")[0])
    parser.add_argument("--task", default="RedDoor")
    parser.add_argument("--batch", type=int, default=1024, help="minibatch size")
    parser.add_argument("--repeats", type=int, default=10, help="timed rounds (median reported)")
    parser.add_argument("--nets", default=DEFAULT_NETS)
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    torch.manual_seed(0)
    obs = G.observe(get_task(args.task).levels("train", np.arange(args.batch, dtype=np.uint64)))
    cells, clock = encode(obs), torch.rand(args.batch)
    first, raw = torch.zeros(args.batch), torch.from_numpy(obs)
    actions = torch.randint(0, 5, (args.batch,))
    specs = [s for s in args.nets.split(",") if s]
    models = {}
    for spec in specs:
        try:
            model = MLP() if spec == "m4-f64-f64" else ActorCritic(spec)
        except ValueError as exc:
            parser.error(str(exc))
        if spec == "m4-f64-f64":
            forward, infer = (lambda m=model: m(raw, clock)), (lambda m=model: m(raw[:256], clock[:256]))
        elif model.core is not None:   # with memory the update replays whole columns: 16 envs x 64 steps
            steps = 64
            seq = (cells.reshape(steps, -1, G.SIZE, G.SIZE), clock.reshape(steps, -1), first.reshape(steps, -1))
            forward = lambda m=model, seq=seq: m.unroll(*seq, m.initial_memory(args.batch // steps))[:2]  # noqa: E731
            infer = lambda m=model: m.step(cells[:256], clock[:256], first[:256], m.initial_memory(len(cells[:256])))  # noqa: E731
        else:
            forward, infer = (lambda m=model: m(cells, clock)), (lambda m=model: m(cells[:256], clock[:256]))
        models[spec] = (model, forward, infer, torch.optim.Adam(model.parameters(), lr=1e-4, eps=1e-5))
    timings = {spec: [] for spec in specs}
    inference = {spec: [] for spec in specs}
    for round_ in range(args.repeats + 2):       # two warm-up rounds, not counted
        for spec in specs:
            model, forward, infer, optimizer = models[spec]
            seconds = step_time(forward, list(model.parameters()), actions, optimizer)
            with torch.inference_mode():
                start = time.perf_counter()
                infer()
                inferred = time.perf_counter() - start
            if round_ >= 2:
                timings[spec].append(seconds)
                inference[spec].append(inferred)
    base = statistics.median(timings[specs[0]])
    print(f"{args.task}, minibatch {args.batch}, {args.repeats} rounds, 1 torch thread (torch {torch.__version__})")
    print(f"{'network':<24}{'parameters':>12}{'update ms':>12}{'x first':>9}{'infer@256 ms':>14}")
    for spec in specs:
        model = models[spec][0]
        ms = statistics.median(timings[spec]) * 1e3
        print(f"{spec:<24}{sum(p.numel() for p in model.parameters()):>12,}{ms:>12.1f}"
              f"{ms / (base * 1e3):>9.2f}{statistics.median(inference[spec]) * 1e3:>14.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
