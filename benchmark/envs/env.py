"""Gymnasium faces of the batched core: `ProxyEnv` (one level) and `ProxyVectorEnv` (B levels).

    import benchmark, gymnasium as gym
    env = gym.make("proxybench/CheeseCorner-train-v1", alpha=0.05, render_mode="rgb_array")
    envs = gym.make_vec("proxybench/CheeseCorner-train-v1", num_envs=1024)   # native, numpy

The reward is the true objective's. Every step's `info` carries `true_reward` and
`proxy_reward`; the step that ends an episode also carries `true_return` and `proxy_return`.
`reset(options={"level_seed": s})` plays a chosen level; otherwise level seeds are drawn from
the env's seeded generator, so `reset(seed=k)` is reproducible. Streams draw from the training block of seeds
(`TRAINING_SEEDS`), disjoint from every seed the scorer plays; `num_levels=N` restricts a stream
to the block's first N seeds (procgen's `num_levels`), e.g. to train on a finite set.
`prefetch_levels=True` makes the next chunk of levels in a worker process while this one is
used up (another core generates them; the same levels), handed over through shared memory:
it pays where levels are costly to make and the agent has a core to spare, not on a one-step
task, whose levels cost about as much to make as to hand over (docs/speed.md). `close()` stops
the worker.

A vector env's levels can be chosen by the trainer instead, for a curriculum over level seeds
(prioritized level replay, baselines/ppo_plr): `level_source=source`, a callable
`source(rows, stream) -> seeds`, is asked for the seeds of the rows that start a level (at
`reset` without `options["level_seeds"]`, and at every autoreset), where `stream(k)` gives the next
k seeds of the env's own stream (the levels it would have played: new levels). The seeds must lie
in the training block; each level is still the pure function of (task, split, seed) that
`task.levels` makes, over the same alpha-mixed generator. Those levels are made when asked (a
source's next choice may depend on the episode that just ended), so a source excludes
`prefetch_levels`. Without a source (the default) nothing changes.

Vector autoreset is gymnasium 1.x `SAME_STEP`: when a level ends, `step` returns the first
observation of the next level in its row, with `terminated`/`truncated` set, the reward of the
ending step, and in `info` the dense array `final_obs` (rows valid where `_final_obs`), plus
`true_return`/`proxy_return` (valid where `_true_return`/`_proxy_return`).
"""

from __future__ import annotations

import gymnasium as gym
import numpy as np
from gymnasium.vector import AutoresetMode, VectorEnv
from gymnasium.vector.utils import batch_space

from benchmark import grid as G
from benchmark.envs.core import BatchedCore, takes
from benchmark.envs.prefetch import LevelStream
from benchmark.contract.task import SPLITS, TRAINING_SEEDS, level_seed_array
from benchmark.contract.registry import get_task, registry

OBSERVATION_SPACE = gym.spaces.Box(0, 255, (G.SIZE, G.SIZE, 3), np.uint8)
ACTION_SPACE = gym.spaces.Discrete(len(G.ACTION_NAMES))
_SEED_HIGH = 2**63
CHUNK_BYTES = 4 << 20   # a vector env's chunk of levels stays within this (unless a batch is larger)


class _LevelSeeds:
    """Level seeds j = 0, 1, 2, ... of an env's episode stream, hashed from one base seed that
    `reset(seed=...)` draws from the env's generator; chunked generation cannot change them.
    They lie in the training block, never among the scoring seeds; with `num_levels` (procgen's
    option) they are drawn from the block's first num_levels seeds."""

    def __init__(self, num_levels: int | None = None):
        if num_levels is not None and not 1 <= num_levels <= TRAINING_SEEDS[1] - TRAINING_SEEDS[0]:
            raise ValueError(f"num_levels must be from 1 to {TRAINING_SEEDS[1] - TRAINING_SEEDS[0]}, got {num_levels}")
        self.num_levels = num_levels
        self.base, self.count = 0, 0

    def restart(self, np_random: np.random.Generator) -> None:
        self.base, self.count = int(np_random.integers(_SEED_HIGH)), 0

    def __call__(self, k: int) -> np.ndarray:
        j = np.arange(self.count, self.count + k, dtype=np.uint64)
        self.count += k
        with np.errstate(over="ignore"):
            seeds = G.splitmix64(np.uint64(self.base) + j) >> np.uint64(1)      # [0, 2**63)
        start = np.uint64(TRAINING_SEEDS[0])
        if self.num_levels is not None:
            return start + seeds % np.uint64(self.num_levels)
        # Below the block (one draw in 2**31): moved up into it, leaving every other draw as it was.
        return np.where(seeds < start, seeds + start, seeds)


def _restart_stream(env, seed, options, base_reset) -> dict:
    """The start of both envs' `reset`: a new seed (or the first reset) seeds the env's
    generator through gymnasium (`base_reset`) and restarts its level stream; returns the options."""
    if seed is not None or env._np_random is None:
        base_reset(seed=seed)
        env._seeds.restart(env.np_random)
        env._levels.reset()
    return options or {}


class ProxyEnv(gym.Env):
    """One level at a time: a batch-of-one view of the batched core."""

    metadata = {"render_modes": ["rgb_array"], "render_fps": 8}

    def __init__(self, task: str, split: str, alpha: float = 0.0, render_mode: str | None = None,
                 num_levels: int | None = None, prefetch_levels: bool = False):
        if render_mode not in (None, "rgb_array"):
            raise ValueError(f"render_mode must be None or 'rgb_array', got {render_mode!r}")
        self.task = get_task(task, alpha=alpha)
        self.split, self.render_mode = split, render_mode
        self.observation_space, self.action_space = OBSERVATION_SPACE, ACTION_SPACE
        self.core = BatchedCore(self.task, split, 1)
        self._seeds = _LevelSeeds(num_levels)
        # 256 levels at a time: numpy's per-call overhead amortised
        self._levels = LevelStream(self.task, split, self._seeds, chunk=256, prefetch=prefetch_levels)

    def reset(self, *, seed=None, options=None):
        options = _restart_stream(self, seed, options, super().reset)
        if options.get("level_seed") is not None:
            self.core.load(np.array([0]), [options["level_seed"]])   # the task checks the seed
        else:
            self.core.load_levels(np.array([0]), self._levels.take(1))
        return G.observe(self.core.state)[0], {"level_seed": int(self.core.state["seed"][0])}

    def step(self, action):
        # Discrete(5).contains, without its per-call overhead (it dominated the step at B=1).
        if not (isinstance(action, (int, np.integer)) or (isinstance(action, np.ndarray) and action.shape == ()
                                                          and np.issubdtype(action.dtype, np.integer))) \
                or isinstance(action, bool) or not 0 <= action < ACTION_SPACE.n:
            raise ValueError(f"{self.task.name}: action {action!r} is not in {self.action_space}")
        true_r, proxy_r, terminated, truncated = self.core.step(np.array([int(action)]))
        info = {"true_reward": float(true_r[0]), "proxy_reward": float(proxy_r[0])}
        if terminated[0] or truncated[0]:
            info["true_return"] = float(self.core.true_return[0])
            info["proxy_return"] = float(self.core.proxy_return[0])
        return G.observe(self.core.state)[0], float(true_r[0]), bool(terminated[0]), bool(truncated[0]), info

    def render(self):
        if self.render_mode == "rgb_array":
            return G.render_rgb(self.core.observe()[0])
        return None

    def close(self):
        self._levels.close()


class ProxyVectorEnv(VectorEnv):
    """B levels stepped at once in numpy, with SAME_STEP autoreset (see the module docstring)."""

    metadata = {"render_modes": ["rgb_array"], "render_fps": 8, "autoreset_mode": AutoresetMode.SAME_STEP}
    level_source = None   # `source(rows, stream) -> seeds`, or None: the env's own stream (module docstring)

    def __init__(self, task: str, split: str, num_envs: int = 1, alpha: float = 0.0,
                 render_mode: str | None = None, num_levels: int | None = None,
                 prefetch_levels: bool = False, level_source=None):
        if render_mode not in (None, "rgb_array"):
            raise ValueError(f"render_mode must be None or 'rgb_array', got {render_mode!r}")
        if level_source is not None and (prefetch_levels or not callable(level_source)):
            raise ValueError("level_source must be a callable source(rows, stream) -> seeds, and excludes "
                             "prefetch_levels (its levels are made when asked)")
        self.level_source = level_source
        self.task = get_task(task, alpha=alpha)
        self.split, self.num_envs, self.render_mode = split, num_envs, render_mode
        self.single_observation_space, self.single_action_space = OBSERVATION_SPACE, ACTION_SPACE
        self.observation_space = batch_space(OBSERVATION_SPACE, num_envs)
        self.action_space = batch_space(ACTION_SPACE, num_envs)
        self.core = BatchedCore(self.task, split, num_envs)
        self._all = np.arange(num_envs)
        self._seeds = _LevelSeeds(num_levels)
        # Chunks of up to four batches, within CHUNK_BYTES: numpy's per-call cost is spread over
        # more levels (docs/speed.md). A prefetched chunk lasts at least
        # four steps even if every level ends at its time limit (a one-step task resets the whole
        # batch every step): the hand-over is paid per chunk.
        level_bytes = sum(v.nbytes for v in self.task.levels(split, np.zeros(1, np.uint64)).values())
        chunk = max(256, num_envs, min(4 * num_envs, CHUNK_BYTES // level_bytes),
                    4 * num_envs // self.task.max_steps if prefetch_levels else 0)
        self._levels = LevelStream(self.task, split, self._seeds, chunk=chunk, prefetch=prefetch_levels)

    def reset(self, *, seed=None, options=None):
        options = _restart_stream(self, seed, options, super().reset)
        if options.get("level_seeds") is not None:
            seeds = options["level_seeds"]
            if np.size(seeds) != self.num_envs:
                raise ValueError(f"{self.task.name}: options['level_seeds'] must hold {self.num_envs} seeds "
                                 f"(one per env), got {np.size(seeds)}")
            self.core.load(self._all, seeds)
        elif self.level_source is not None:
            self.core.load_levels(self._all, self._chosen_levels(self._all))
        else:
            self.core.load_levels(self._all, self._levels.take(self.num_envs))
        return G.observe(self.core.state), {}

    def _chosen_levels(self, rows: np.ndarray) -> dict:
        """The levels `level_source` chooses for `rows` (seeds from the training block only)."""
        seeds = level_seed_array(self.level_source(rows, self._seeds), self.task.name)
        if seeds.shape != (len(rows),):
            raise ValueError(f"{self.task.name}: level_source returned {seeds.size} seeds for {len(rows)} rows")
        if ((seeds < np.uint64(TRAINING_SEEDS[0])) | (seeds >= np.uint64(TRAINING_SEEDS[1]))).any():
            raise ValueError(f"{self.task.name}: level_source chose a seed outside the training block "
                             f"[2**32, 2**63), where the scorer plays none")
        return self.task.levels(self.split, seeds)

    def step(self, actions):
        if self.core.state is None:
            raise gym.error.ResetNeeded(f"{self.task.name}: call reset() before step()")
        actions = np.asarray(actions)
        if actions.shape != (self.num_envs,) or actions.dtype.kind not in "iu":  # integers
            raise ValueError(f"{self.task.name}: actions must be {self.num_envs} integers, "
                             f"got shape {actions.shape} dtype {actions.dtype}")
        # One reduction checks both ends: seen unsigned, a negative action is a huge one.
        if actions.view(f"u{actions.itemsize}").max(initial=0) >= ACTION_SPACE.n:
            raise ValueError(f"{self.task.name}: actions must lie in [0, {ACTION_SPACE.n})")
        true_r, proxy_r, terminated, truncated = self.core.step(actions)
        info = {"true_reward": true_r, "proxy_reward": proxy_r}
        done = terminated | truncated
        if done.any():
            ended = np.flatnonzero(done)
            levels = self._levels.take(len(ended)) if self.level_source is None else self._chosen_levels(ended)
            if len(ended) == self.num_envs:   # every level ended (one-step tasks): no scatter
                state = self.core.state
                if takes(levels["grid"]):     # the load drops the ended grids: draw on them, no copy
                    info["final_obs"] = G.draw_agents(state["grid"], state["agent"])
                else:
                    info["final_obs"] = G.observe(state)
            else:
                info["final_obs"] = np.zeros_like(self.core.obs)
                info["final_obs"][ended] = G.observe(self.core.state, rows=ended)
            info["true_return"] = np.where(done, self.core.true_return, 0.0)
            info["proxy_return"] = np.where(done, self.core.proxy_return, 0.0)
            info["_final_obs"] = info["_true_return"] = info["_proxy_return"] = done
            self.core.load_levels(ended, levels, owned=True)
        return G.observe(self.core.state), true_r.astype(np.float64), terminated, truncated, info

    def render(self):
        if self.render_mode == "rgb_array":
            if self.core.state is None:
                raise gym.error.ResetNeeded(f"{self.task.name}: call reset() before render()")
            return tuple(G.render_rgb(self.core.observe()))
        return None

    def close_extras(self, **kwargs):
        self._levels.close()


def register_envs(tasks: dict | None = None) -> None:
    """Register `proxybench/<Task>-<split>-v<version>` for every task and split."""
    for name, cls in (tasks if tasks is not None else registry()).items():
        for split in SPLITS:
            env_id = cls.env_id(split)
            if env_id in gym.registry:
                continue
            gym.register(
                id=env_id,
                entry_point="benchmark.envs.env:ProxyEnv",
                vector_entry_point="benchmark.envs.env:ProxyVectorEnv",
                kwargs={"task": name, "split": split},
            )
