"""Speed against other libraries, timed in the same rounds as proxybench's own cells.

    python tools/compare_speed.py --compare numpy [--tasks RedDoor,CoinEnd] [--batch 1,32,1024]
    python tools/compare_speed.py --compare minigrid      # needs: pip install -e '.[bench]'
    python tools/compare_speed.py --compare xminigrid     # needs JAX and xland-minigrid

`numpy` is a plain numpy batched 13x13 gridworld (`PlainGridworld`), the least a batched numpy
gridworld does per step, timed at every batch above 1: each task's speed is printed as a fraction
of it (absolute figures move with the machine, a fraction of a reference measured in the same
run much less). `minigrid` times a Minigrid maze (SimpleCrossingS11N5, one env: Minigrid's
vector envs do not help) and prints the slowest proxybench task as a multiple of it. `xminigrid`
times xland-minigrid's FourRooms on the CPU (jit(vmap(step)), auto-reset) at every batch.
"""

from __future__ import annotations

import argparse
import json
import sys

import numpy as np

from benchmark.speedtest import SpeedtestError, Timed, close, measure, parse, print_table, proxybench_cells, \
    proxybench_table, single_env

LIBRARIES = ("minigrid", "numpy", "xminigrid")


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
        from benchmark import grid as G

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


def comparison_cells(library: str, batches: list[int]) -> dict:
    if library == "minigrid":
        return {("minigrid", MINIGRID_ID, 1, False): minigrid_env()}
    if library == "numpy":
        return {("numpy", PLAIN_GRIDWORLD, b, False): plain_gridworld_env(b) for b in batches if b > 1}
    return {("xminigrid", XMINIGRID_ID, b, False): xminigrid_env(b) for b in batches}


def print_ratios(records: list[dict], batches: list[int]) -> None:
    table = proxybench_table(records)
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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python tools/compare_speed.py", description=__doc__.split("\n")[0])
    parser.add_argument("--compare", required=True, help=f"comma-separated: {', '.join(LIBRARIES)}")
    parser.add_argument("--tasks", default=None, help="comma-separated task names (default: all)")
    parser.add_argument("--batch", default="1,32,1024", help="comma-separated batch sizes (default: 1,32,1024)")
    parser.add_argument("--seconds", type=float, default=1.0, help="time per measurement")
    parser.add_argument("--repeats", type=int, default=3, help="measurements per cell (median reported)")
    parser.add_argument("--format", choices=("table", "json"), default="table")
    args = parser.parse_args(argv)

    def fail(message: str) -> int:
        print(f"compare_speed: error: {message}", file=sys.stderr)
        return 1

    try:
        tasks, batches = parse(args.tasks, args.batch, args.seconds, args.repeats)
    except SpeedtestError as exc:
        return fail(str(exc))
    compare = [c.strip() for c in args.compare.split(",") if c.strip()]
    for library in compare:
        if library not in LIBRARIES:
            return fail(f"--compare {library}: not supported ({', '.join(LIBRARIES)})")
    if "numpy" in compare and max(batches) <= 1:
        return fail("--compare numpy times batches above 1: add one to --batch")
    cells = proxybench_cells(tasks, batches)
    try:
        for library in compare:
            try:
                cells.update(comparison_cells(library, batches))
            except ImportError:
                return fail(f"--compare {library} needs {library} installed (minigrid: the bench extra; "
                            "xminigrid: JAX, in an environment of its own)")
        records = measure(cells, args.seconds, args.repeats)
    finally:
        close(cells)
    if args.format == "json":
        print(json.dumps(records, indent=2))
        return 0
    print_table(records, batches, args.seconds, args.repeats)
    print_ratios(records, batches)
    return 0


if __name__ == "__main__":
    sys.exit(main())
