"""`proxybench speedtest`: random-policy environment steps per second, per task and batch size.

Batch 1 is a plain `gymnasium.make` env (its wrappers included); larger batches are the native
vector env from `gymnasium.make_vec`. Observations are produced and autoresets (level
generation) happen inside the timed loop. Each cell is the median of several timed samples,
taken in rounds: every cell (the compared library's too) is sampled once per round, so that a
machine whose speed drifts during the run shifts every cell alike.

`--format json` gives each cell's rounds too (`rounds`), and the table a line on how far a
cell's rounds lie apart: on a noisy machine, read the ratios within a run, not one figure.

`--prefetch-levels` also times every batch above 1 with `prefetch_levels=True` (the next chunk
of levels made in a worker process, on another core), in extra columns.

`--compare minigrid` times a Minigrid maze (SimpleCrossingS11N5, one env: Minigrid's vector
envs do not help) in the same run and prints our speed as a multiple of it. `--compare numpy`
times a plain numpy batched gridworld (`PlainGridworld`, the ceiling issue #7 gives a numpy
suite) at every batch above 1 and prints each task's speed as a fraction of it: absolute figures
move with the machine, a fraction of a reference measured in the same run much less. `--scoring` times
building the reference cache for the suite (cold) and scoring the random baseline on it (warm).
"""

from __future__ import annotations

import importlib.metadata
import json
import platform
import time

import gymnasium as gym
import numpy as np
from tabulate import tabulate

from .cli import _fail


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


MINIGRID_ID = "MiniGrid-SimpleCrossingS11N5-v0"


def minigrid_env() -> Timed:
    """Minigrid's maze, one env, random turn/forward actions (its navigation actions)."""
    import minigrid  # noqa: F401  (registers its envs; the `bench` extra)

    return single_env(MINIGRID_ID, 3)


XMINIGRID_ID = "MiniGrid-FourRooms"


def xminigrid_env(batch: int) -> Timed:
    """xland-minigrid (JAX, on the CPU): jit(vmap(step)) with its auto-reset wrapper over `batch`
    environments, uniform random actions pre-drawn on the device; observations included."""
    import jax
    import xminigrid
    from xminigrid.wrappers import GymAutoResetWrapper

    env, params = xminigrid.make(XMINIGRID_ID)
    env = GymAutoResetWrapper(env)
    reset = jax.jit(jax.vmap(env.reset, in_axes=(None, 0)))
    step = jax.jit(jax.vmap(env.step, in_axes=(None, 0, 0)))
    state = {"ts": reset(params, jax.random.split(jax.random.key(0), batch))}
    actions = jax.random.randint(jax.random.key(1), (64, batch), 0, env.num_actions(params))

    def one(a):
        state["ts"] = step(params, state["ts"], a)

    class _Env:  # the interface `Timed` expects
        def reset(self, seed=None):
            jax.block_until_ready(state["ts"])

        def close(self):
            jax.block_until_ready(state["ts"])

    def step_blocking(a):  # dispatch is asynchronous: block on each call so the time counts the work
        one(a)
        jax.block_until_ready(state["ts"].observation)
    return Timed(_Env(), step_blocking, actions)


class PlainGridworld:
    """The reference point of `--compare numpy`: a plain numpy batched 13x13 gridworld, the
    least a batched numpy gridworld does per step. B open rooms walled at the border, one goal
    cell each. An agent moves one cell (into a wall: no move); reaching the goal pays 1 and ends
    the episode, as step 64 does; an ended episode restarts at a random cell with a new random
    goal, with no maze or item placement. Every step returns a fresh uint8 (B, 13, 13, 3)
    observation, rewards, terminations and truncations, as a proxybench vector env does.

    It is written on its own, not with the grid engine, so that the engine's cost is part of
    what it is compared with; what a task costs over it is its maze, items, NPCs, level
    generation, action checks and infos."""

    MAX_STEPS = 64

    def __init__(self, batch: int):
        from . import grid as G

        self.batch, self.size = batch, G.SIZE
        self.moves, self.wall, self.goal_code, self.agent_code = G.MOVES, G.cell("wall", "grey"), \
            G.cell("ball", "green"), G.cell("agent", "white")
        self.offsets = np.arange(batch) * self.size * self.size

    def reset(self, seed=None):
        self.rng = np.random.default_rng(seed)
        self.grid = np.zeros((self.batch, self.size, self.size, 3), np.uint8)
        self.grid[:, [0, -1], :] = self.wall
        self.grid[:, :, [0, -1]] = self.wall
        self.agent = np.zeros((self.batch, 2), np.int64)
        self.goal = np.zeros((self.batch, 2), np.int64)
        self.t = np.zeros(self.batch, np.int64)
        self._restart(np.arange(self.batch), erase=False)
        return self._observe(), {}

    def _restart(self, rows: np.ndarray, erase: bool = True) -> None:
        if erase:   # the old goal's cell
            self.grid[rows, self.goal[rows, 0], self.goal[rows, 1]] = 0
        self.goal[rows] = self.rng.integers(1, self.size - 1, (len(rows), 2))
        self.agent[rows] = self.rng.integers(1, self.size - 1, (len(rows), 2))
        self.grid[rows, self.goal[rows, 0], self.goal[rows, 1]] = self.goal_code
        self.t[rows] = 0

    def _cells(self, pos: np.ndarray) -> np.ndarray:
        return self.offsets + pos[:, 0] * self.size + pos[:, 1]

    def _observe(self) -> np.ndarray:
        obs = self.grid.copy()
        obs.reshape(-1, 3)[self._cells(self.agent)] = self.agent_code
        return obs

    def step(self, actions: np.ndarray):
        move = self.moves.take(actions, axis=0)
        free = self.grid.reshape(-1).take(3 * self._cells(self.agent + move)) != self.wall[0]
        self.agent += move * free[:, None]
        self.t += 1
        at_goal = (self.agent[:, 0] == self.goal[:, 0]) & (self.agent[:, 1] == self.goal[:, 1])
        truncated = (self.t >= self.MAX_STEPS) & ~at_goal
        ended = at_goal | truncated
        if ended.any():
            self._restart(np.flatnonzero(ended))
        return self._observe(), at_goal.astype(np.float64), at_goal, truncated, {}

    def close(self) -> None:
        pass


def plain_gridworld_env(batch: int) -> Timed:
    env = PlainGridworld(batch)
    actions = np.random.default_rng(0).integers(0, 5, size=(256, batch))
    return Timed(env, env.step, actions)


PLAIN_GRIDWORLD = "plain 13x13 gridworld"


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
    import os
    import tempfile
    from pathlib import Path

    from .scorer import score_submission

    root = Path(__file__).resolve().parents[1]
    old = os.environ.get("PROXYBENCH_CACHE")
    with tempfile.TemporaryDirectory() as cache:
        os.environ["PROXYBENCH_CACHE"] = cache
        try:
            from .rollout import reference_tables
            from .task import SPLITS, get_task, public_seeds
            start = time.perf_counter()
            for name in tasks:
                task = get_task(name)
                for split in SPLITS:
                    reference_tables(task, split, public_seeds(task, split))
            cold = time.perf_counter() - start
            start = time.perf_counter()
            score_submission(root / "baselines" / "random", tasks, progress=False, sandbox=False)
            warm = time.perf_counter() - start
        finally:
            if old is None:
                os.environ.pop("PROXYBENCH_CACHE", None)
            else:
                os.environ["PROXYBENCH_CACHE"] = old
    return {"reference_cache_seconds": round(cold, 2), "score_random_seconds": round(warm, 2)}


def speedtest(args) -> int:
    from .task import get_task, parse_task_list

    try:
        tasks = parse_task_list(args.tasks)
    except KeyError as exc:
        return _fail(str(exc.args[0]))
    try:
        batches = [int(b) for b in str(args.batch).split(",") if b.strip()]
    except ValueError:
        return _fail(f"--batch {args.batch}: give comma-separated whole numbers, such as 1,32,1024")
    if not batches or min(batches) < 1:
        return _fail(f"--batch {args.batch}: batch sizes must be at least 1")
    if not args.seconds > 0 or args.repeats < 1:
        return _fail("--seconds must be positive and --repeats at least 1")
    compare = [c.strip() for c in (args.compare or "").split(",") if c.strip()]
    for library in compare:
        if library not in ("minigrid", "numpy", "xminigrid"):
            return _fail(f"--compare {library}: not supported (minigrid, numpy, xminigrid)")
    if "numpy" in compare and max(batches) <= 1:
        return _fail("--compare numpy times batches above 1: add one to --batch")
    prefetch = [False, True] if args.prefetch_levels else [False]
    cells = {("proxybench", name, batch, pre): proxybench_env(get_task(name).env_id("train"), batch, pre)
             for name in tasks for batch in batches for pre in prefetch if not (pre and batch == 1)}
    try:
        return _run(args, tasks, batches, compare, cells)
    finally:
        for timed in cells.values():
            timed.env.close()   # every cell's env, the compared libraries' too (and the level workers)


def _run(args, tasks: list[str], batches: list[int], compare: list[str], cells: dict) -> int:
    from .task import get_task

    try:
        for library in compare:
            if library == "minigrid":
                cells["minigrid", MINIGRID_ID, 1, False] = minigrid_env()
            elif library == "numpy":
                for batch in batches:
                    if batch > 1:
                        cells["numpy", PLAIN_GRIDWORLD, batch, False] = plain_gridworld_env(batch)
            else:
                for batch in batches:
                    cells["xminigrid", XMINIGRID_ID, batch, False] = xminigrid_env(batch)
    except ImportError:
        return _fail(f"--compare {library} needs {library} installed (minigrid: the bench extra; "
                     "xminigrid: JAX, in an environment of its own)")
    for round_ in range(args.repeats):  # every cell once per round (see `Timed`)
        for timed in cells.values():
            timed.sample(args.seconds)
    records = [{"library": library, "task": task, "batch": batch, "steps_per_second": round(timed.result()),
                **({"prefetch_levels": pre} if args.prefetch_levels and library == "proxybench" else {}),
                "rounds": [round(x) for x in timed.samples]}
               for (library, task, batch, pre), timed in cells.items()]
    extra = {}
    if args.memory:
        extra["memory_bytes_batch_1024"] = {name: batch_memory(get_task(name).env_id("train"), 1024) for name in tasks}
    if args.scoring:
        extra.update(time_scoring(tasks))
    if args.format == "json":
        print(json.dumps(records if not extra else {"records": records, **extra}, indent=2))
        return 0
    table = {}
    for r in records:
        if r["library"] == "proxybench":
            column = r["batch"], r.get("prefetch_levels", False)
            table.setdefault(r["task"], {})[column] = r["steps_per_second"]
    columns = [(b, pre) for b in batches for pre in (False, True) if (b, pre) in next(iter(table.values()))]
    rows = [[task] + [f"{by[col]:,}" for col in columns] for task, by in table.items()]
    print(f"random-policy steps/s (median of {args.repeats} rounds x {args.seconds:g}s; observation and "
          f"resets included) on {platform.machine()}, {platform.python_implementation()} "
          f"{platform.python_version()}, numpy {np.__version__}, numba {importlib.metadata.version('numba')}")
    print(tabulate(rows, headers=["task"] + [f"B={b}" + (" prefetch" if pre else "") for b, pre in columns],
                   tablefmt="github", disable_numparse=True))
    spread = {(r["task"], r["batch"], r.get("prefetch_levels", False)): max(r["rounds"]) / min(r["rounds"])
              for r in records if min(r["rounds"]) > 0}
    if args.repeats > 1 and spread:   # how far one cell's rounds lie apart: the machine's noise
        (task, batch, pre), worst = max(spread.items(), key=lambda item: item[1])
        print(f"spread of a cell's rounds (fastest / slowest): median {np.median(list(spread.values())):.2f}x, "
              f"largest {worst:.2f}x ({task} B={batch}{' prefetch' if pre else ''})")
    ours = {b: min(by[b, False] for by in table.values()) for b in batches}
    for r in records:
        if r["library"] == "minigrid":
            ratios = ", ".join(f"B={b}: {ours[b] / r['steps_per_second']:.1f}x" for b in batches)
            print(f"minigrid {r['task']} (one env): {r['steps_per_second']:,} steps/s; "
                  f"slowest proxybench task as a multiple of it: {ratios}")
        elif r["library"] == "numpy":
            fraction = {task: by[r["batch"], False] / r["steps_per_second"] for task, by in table.items()}
            slow, fast = min(fraction, key=fraction.get), max(fraction, key=fraction.get)
            print(f"numpy {r['task']} B={r['batch']}: {r['steps_per_second']:,} steps/s; proxybench at the "
                  f"same batch: {fraction[slow]:.2f}x it ({slow}) to {fraction[fast]:.2f}x ({fast})")
        elif r["library"] == "xminigrid":
            print(f"xminigrid {r['task']} B={r['batch']}: {r['steps_per_second']:,} steps/s; slowest "
                  f"proxybench task at the same batch: {ours[r['batch']] / r['steps_per_second']:.2f}x")
    if "memory_bytes_batch_1024" in extra:
        mem = extra["memory_bytes_batch_1024"]
        print("memory for 1024 levels (state, observations, level stream): "
              + ", ".join(f"{k} {v / 2**20:.1f} MB" for k, v in mem.items()))
    if "reference_cache_seconds" in extra:
        print(f"reference cache for {len(tasks)} tasks, cold: {extra['reference_cache_seconds']} s; "
              f"scoring the random baseline, cache warm: {extra['score_random_seconds']} s")
    return 0
