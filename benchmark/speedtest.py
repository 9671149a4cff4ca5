"""`proxybench speedtest`: random-policy environment steps per second, per task and batch size.

Batch 1 is a plain `gymnasium.make` env (its wrappers included); larger batches are the native
vector env from `gymnasium.make_vec`. Observations are produced and autoresets (level
generation) happen inside the timed loop. Each cell is the median of several timed samples,
taken in rounds: every cell is sampled once per round, so that a machine whose speed drifts
during the run shifts every cell alike.

`--format json` gives each cell's rounds too (`rounds`), and the table a line on how far a
cell's rounds lie apart: on a noisy machine, read the ratios within a run, not one figure.
`--prefetch-levels` also times every batch above 1 with `prefetch_levels=True` (the next chunk
of levels made in a worker process, on another core), in extra columns. `--memory` reports what
1024 levels hold; `--scoring` times building the reference cache (cold) and scoring the random
baseline (warm). Comparisons with other libraries, timed in the same rounds, are in
`tools/compare_speed.py`; measured figures are in docs/speed.md.
"""

from __future__ import annotations

import importlib.metadata
import json
import os
import platform
import tempfile
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


class Timed:
    """One cell of the table: a step function under fixed random actions, reset and warmed up
    once, then sampled in rounds. The speedtest samples every cell once per round, so a machine
    whose speed drifts during the run slows every cell alike and ratios stay fair."""

    def __init__(self, env, step, actions: np.ndarray):
        self.env, self.step, self.actions = env, step, actions
        self.samples: list[float] = []
        env.reset(seed=0)
        _steps_per_second(step, actions, 0.2)                   # warm up

    def sample(self, seconds: float) -> None:
        self.samples.append(_steps_per_second(self.step, self.actions, seconds))

    def result(self) -> float:
        """The median of the samples."""
        return float(np.median(self.samples))


def single_env(env_id: str, n_actions: int) -> Timed:
    """One `gymnasium.make` env under uniform random actions, resets included."""
    env = gym.make(env_id)

    def step(a):
        _, _, terminated, truncated, _ = env.step(a)
        if terminated or truncated:
            env.reset()
    actions = np.array([int(a) for a in np.random.default_rng(0).integers(0, n_actions, 4096)], dtype=object)
    return Timed(env, step, actions)


def proxybench_env(env_id: str, batch: int, prefetch: bool = False) -> Timed:
    if batch == 1:
        return single_env(env_id, 5)
    env = gym.make_vec(env_id, num_envs=batch, prefetch_levels=prefetch)
    actions = np.random.default_rng(0).integers(0, 5, size=(256, batch))
    return Timed(env, env.step, actions)


def batch_memory(env_id: str, batch: int) -> int:
    """Bytes held by a vector env of `batch` levels: level state, observation buffer, level stream."""
    env = gym.make_vec(env_id, num_envs=batch).unwrapped
    env.reset(seed=0)
    env.step(np.zeros(batch, np.int64))
    core = env.core
    arrays = list(core.state.values()) + [core.obs, core.t, core.true_return, core.proxy_return]
    arrays += list((env._levels._levels or {}).values())
    held = {}   # each block of memory once: the state may be a view of the level stream's chunk
    for array in arrays:
        while isinstance(array.base, np.ndarray):
            array = array.base
        held[id(array)] = array.nbytes
    env.close()
    return int(sum(held.values()))


def time_scoring(tasks: list[str]) -> dict:
    """Seconds to build the reference cache for `tasks` (cold, in a fresh cache folder) and to
    score the random baseline in-process with the cache warm."""
    from benchmark.submission.score import score_submission

    from benchmark.training import baseline_folder

    old = os.environ.get("PROXYBENCH_CACHE")
    with tempfile.TemporaryDirectory() as cache:
        os.environ["PROXYBENCH_CACHE"] = cache
        try:
            from benchmark.evaluation.cache import reference_tables
            from benchmark.contract.task import SPLITS
            from benchmark.contract.registry import get_task
            from benchmark.evaluation.seeds import public_seeds
            start = time.perf_counter()
            for name in tasks:
                task = get_task(name)
                for split in SPLITS:
                    reference_tables(task, split, public_seeds(task, split))
            cold = time.perf_counter() - start
            start = time.perf_counter()
            score_submission(baseline_folder("random"), tasks, progress=False, sandbox=False)
            warm = time.perf_counter() - start
        finally:
            if old is None:
                os.environ.pop("PROXYBENCH_CACHE", None)
            else:
                os.environ["PROXYBENCH_CACHE"] = old
    return {"reference_cache_seconds": round(cold, 2), "score_random_seconds": round(warm, 2)}


class SpeedtestError(ValueError):
    """A speedtest asked for something it cannot time; the message names the flag."""


def parse(tasks: str | None, batch: str, seconds: float, repeats: int) -> tuple[list[str], list[int]]:
    """The task names and batch sizes of a speedtest's flags, checked."""
    from benchmark.contract.registry import parse_task_list

    try:
        names = parse_task_list(tasks)
    except KeyError as exc:
        raise SpeedtestError(str(exc.args[0])) from None
    try:
        batches = [int(b) for b in str(batch).split(",") if b.strip()]
    except ValueError:
        raise SpeedtestError(f"--batch {batch}: give comma-separated whole numbers, such as 1,32,1024") from None
    if not batches or min(batches) < 1:
        raise SpeedtestError(f"--batch {batch}: batch sizes must be at least 1")
    if not seconds > 0 or repeats < 1:
        raise SpeedtestError("--seconds must be positive and --repeats at least 1")
    return names, batches


def proxybench_cells(tasks: list[str], batches: list[int], prefetch: bool = False) -> dict:
    """(library, task, batch, prefetch) -> Timed, for every task and batch (and, with `prefetch`,
    every batch above 1 again with levels made ahead)."""
    from benchmark.contract.registry import get_task

    modes = [False, True] if prefetch else [False]
    return {("proxybench", name, batch, pre): proxybench_env(get_task(name).env_id("train"), batch, pre)
            for name in tasks for batch in batches for pre in modes if not (pre and batch == 1)}


def measure(cells: dict, seconds: float, repeats: int, prefetch_column: bool = False) -> list[dict]:
    """Sample every cell once per round, `repeats` rounds (see `Timed`); one record per cell."""
    for _ in range(repeats):
        for timed in cells.values():
            timed.sample(seconds)
    return [{"library": library, "task": task, "batch": batch, "steps_per_second": round(timed.result()),
             **({"prefetch_levels": pre} if prefetch_column and library == "proxybench" else {}),
             "rounds": [round(x) for x in timed.samples]}
            for (library, task, batch, pre), timed in cells.items()]


def proxybench_table(records: list[dict]) -> dict:
    """task -> {(batch, prefetch): steps/s} of the proxybench records."""
    table = {}
    for r in records:
        if r["library"] == "proxybench":
            table.setdefault(r["task"], {})[r["batch"], r.get("prefetch_levels", False)] = r["steps_per_second"]
    return table


def print_table(records: list[dict], batches: list[int], seconds: float, repeats: int) -> None:
    """The proxybench cells as a table, the machine they ran on, and the spread of the rounds."""
    table = proxybench_table(records)
    columns = [(b, pre) for b in batches for pre in (False, True) if (b, pre) in next(iter(table.values()))]
    rows = [[task] + [f"{by[col]:,}" for col in columns] for task, by in table.items()]
    print(f"random-policy steps/s (median of {repeats} rounds x {seconds:g}s; observation and "
          f"resets included) on {platform.machine()}, {platform.python_implementation()} "
          f"{platform.python_version()}, numpy {np.__version__}, numba {importlib.metadata.version('numba')}")
    print(tabulate(rows, headers=["task"] + [f"B={b}" + (" prefetch" if pre else "") for b, pre in columns],
                   tablefmt="github", disable_numparse=True))
    spread = {(r["task"], r["batch"], r.get("prefetch_levels", False)): max(r["rounds"]) / min(r["rounds"])
              for r in records if min(r["rounds"]) > 0}
    if repeats > 1 and spread:   # how far one cell's rounds lie apart: the machine's noise
        (task, batch, pre), worst = max(spread.items(), key=lambda item: item[1])
        print(f"spread of a cell's rounds (fastest / slowest): median {np.median(list(spread.values())):.2f}x, "
              f"largest {worst:.2f}x ({task} B={batch}{' prefetch' if pre else ''})")


def close(cells: dict) -> None:
    for timed in cells.values():
        timed.env.close()   # every cell's env (and the level workers)


def speedtest(args) -> int:
    """`proxybench speedtest`: SpeedtestError for a bad flag."""
    from benchmark.contract.registry import get_task

    tasks, batches = parse(args.tasks, args.batch, args.seconds, args.repeats)
    cells = proxybench_cells(tasks, batches, args.prefetch_levels)
    try:
        records = measure(cells, args.seconds, args.repeats, args.prefetch_levels)
    finally:
        close(cells)
    extra = {}
    if args.memory:
        extra["memory_bytes_batch_1024"] = {name: batch_memory(get_task(name).env_id("train"), 1024) for name in tasks}
    if args.scoring:
        extra.update(time_scoring(tasks))
    if args.format == "json":
        print(json.dumps(records if not extra else {"records": records, **extra}, indent=2))
        return 0
    print_table(records, batches, args.seconds, args.repeats)
    if "memory_bytes_batch_1024" in extra:
        mem = extra["memory_bytes_batch_1024"]
        print("memory for 1024 levels (state, observations, level stream): "
              + ", ".join(f"{k} {v / 2**20:.1f} MB" for k, v in mem.items()))
    if "reference_cache_seconds" in extra:
        print(f"reference cache for {len(tasks)} tasks, cold: {extra['reference_cache_seconds']} s; "
              f"scoring the random baseline, cache warm: {extra['score_random_seconds']} s")
    return 0
