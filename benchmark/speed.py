"""`proxybench speedtest`: random-policy environment steps per second, per task and batch size.

Batch 1 is a plain `gymnasium.make` env (its wrappers included); larger batches are the native
vector env from `gymnasium.make_vec`. Observations are produced and autoresets (level
generation) happen inside the timed loop. Each cell is the median of several timed runs.
"""

from __future__ import annotations

import json
import platform
import time

import gymnasium as gym
import numpy as np
from tabulate import tabulate


def _steps_per_second(step, actions: np.ndarray, seconds: float) -> float:
    """Call step(actions[i % len]) until `seconds` pass; return steps/s (batch rows counted)."""
    batch = actions.shape[1] if actions.ndim == 2 else 1
    n, i = 0, 0
    start = time.perf_counter()
    deadline = start + seconds
    while True:
        for _ in range(16):
            step(actions[i])
            i = (i + 1) % len(actions)
            n += 1
        now = time.perf_counter()
        if now >= deadline:
            return n * batch / (now - start)


def measure(env_id: str, batch: int, seconds: float, repeats: int) -> float:
    rng = np.random.default_rng(0)
    if batch == 1:
        env = gym.make(env_id)
        env.reset(seed=0)

        def step(a):
            _, _, terminated, truncated, _ = env.step(a)
            if terminated or truncated:
                env.reset()
        actions = rng.integers(0, 5, size=4096)
        actions = [int(a) for a in actions]
        actions = np.array(actions, dtype=object)
    else:
        env = gym.make_vec(env_id, num_envs=batch)
        env.reset(seed=0)
        step = env.step
        actions = rng.integers(0, 5, size=(256, batch))
    _steps_per_second(step, actions, min(0.2, seconds))           # warm up
    runs = [_steps_per_second(step, actions, seconds) for _ in range(repeats)]
    env.close()
    return float(np.median(runs))


def speedtest(args) -> int:
    from .task import get_task, parse_task_list

    tasks = parse_task_list(args.tasks)
    batches = [int(b) for b in str(args.batch).split(",") if b.strip()]
    records = []
    for name in tasks:
        env_id = get_task(name).env_id("train")
        for batch in batches:
            sps = measure(env_id, batch, args.seconds, args.repeats)
            records.append({"library": "proxybench", "task": name, "batch": batch, "steps_per_second": round(sps)})
    if args.format == "json":
        print(json.dumps(records, indent=2))
        return 0
    table = {}
    for r in records:
        table.setdefault(r["task"], {})[r["batch"]] = r["steps_per_second"]
    rows = [[task] + [f"{by[b]:,}" for b in batches] for task, by in table.items()]
    print(f"random-policy steps/s (median of {args.repeats} x {args.seconds:g}s; observation and "
          f"resets included) on {platform.machine()}, {platform.python_implementation()} "
          f"{platform.python_version()}, numpy {np.__version__}")
    print(tabulate(rows, headers=["task"] + [f"B={b}" for b in batches], tablefmt="github",
                   disable_numparse=True))
    return 0
