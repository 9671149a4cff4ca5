"""Stable-Baselines3 adapter: a task split as an SB3 `VecEnv`, stepped natively in numpy.

    from benchmark.envs.sb3 import ProxySB3VecEnv
    from stable_baselines3 import PPO
    env = ProxySB3VecEnv("CheeseCorner", num_envs=256, seed=0)        # train split, alpha 0
    model = PPO("MlpPolicy", env).learn(1_000_000)

It wraps `benchmark.envs.env.ProxyVectorEnv` (one batched core, no subprocesses, no per-env Python
objects) and speaks SB3's conventions instead of gymnasium's:

- `step` returns (obs, reward, done, infos) with done = terminated | truncated; the reward is the
  true objective's, as everywhere in the suite.
- When a level ends, the returned observation is already the next level's first one (SB3 and
  gymnasium SAME_STEP agree on that) and the ending env's info dict carries
  `terminal_observation`, `TimeLimit.truncated` (so PPO bootstraps time-outs from the value
  function), Monitor's `episode` = {"r": true return, "l": length, "t": seconds since start}
  (so SB3's `ep_rew_mean`/`ep_len_mean` logging works without a Monitor wrapper), and the
  episode's `true_return` and `proxy_return`.
- Per-step `true_reward`/`proxy_reward` go into every info dict only with `step_rewards=True`:
  that costs one dict write per env per step, which SB3's own loop does not need.
- The observation space is the (13, 13, 3) uint8 grid with per-channel upper bounds at the
  encoding tables' largest codes, not 255: SB3 then does not mistake the symbolic grid for an
  image (no transposing, no division by 255), and a features extractor gets the raw codes.

`stable_baselines3` is imported by this module only; nothing in the core package imports it.
"""

from __future__ import annotations

import time
from typing import Any, Sequence

import gymnasium as gym
import numpy as np
from stable_baselines3.common.vec_env.base_vec_env import VecEnv, VecEnvIndices

from benchmark import grid as G
from benchmark.envs.env import ACTION_SPACE, ProxyVectorEnv

_HIGH = np.broadcast_to(np.array([max(G.OBJECT_TO_IDX.values()), max(G.COLOR_TO_IDX.values()),
                                  max(G.STATE_TO_IDX.values())], np.uint8), (G.SIZE, G.SIZE, 3))
OBSERVATION_SPACE = gym.spaces.Box(np.zeros_like(_HIGH), _HIGH.copy(), dtype=np.uint8)


class ProxySB3VecEnv(VecEnv):
    """`num_envs` levels of one task split as an SB3 VecEnv (see the module docstring).

    `seed` seeds the level stream on the first `reset` (SB3's `env.seed(s)` overrides it for
    the next one); `alpha` and `num_levels` are `ProxyVectorEnv`'s."""

    def __init__(self, task: str, num_envs: int = 64, *, split: str = "train", alpha: float = 0.0,
                 num_levels: int | None = None, seed: int | None = None, step_rewards: bool = False,
                 **options):
        self.venv = ProxyVectorEnv(task, split, num_envs, alpha=alpha, num_levels=num_levels, **options)
        self.task, self.split = self.venv.task, split
        self.step_rewards = step_rewards
        super().__init__(num_envs, OBSERVATION_SPACE, ACTION_SPACE)
        if seed is not None:
            self._seeds = [seed] * num_envs
        self._actions: np.ndarray | None = None
        self._length = np.zeros(num_envs, np.int64)
        self._t0 = time.time()

    # -- the VecEnv protocol ------------------------------------------------------------------

    def reset(self) -> np.ndarray:
        seed = self._seeds[0] if self._seeds and self._seeds[0] is not None else None
        obs, _ = self.venv.reset(seed=seed)
        self._reset_seeds()
        self._reset_options()
        self._length[:] = 0
        return obs

    def step_async(self, actions: np.ndarray) -> None:
        self._actions = np.asarray(actions).reshape(self.num_envs).astype(np.int64, copy=False)

    def step_wait(self):
        obs, reward, terminated, truncated, info = self.venv.step(self._actions)
        done = terminated | truncated
        self._length += 1
        if self.step_rewards:
            infos = [{"true_reward": float(t), "proxy_reward": float(p)}
                     for t, p in zip(info["true_reward"].tolist(), info["proxy_reward"].tolist())]
        else:
            infos = [{} for _ in range(self.num_envs)]
        if done.any():
            elapsed = round(time.time() - self._t0, 6)
            for i in np.flatnonzero(done).tolist():
                true_return = float(info["true_return"][i])
                infos[i].update({
                    "terminal_observation": info["final_obs"][i],
                    "TimeLimit.truncated": bool(truncated[i] and not terminated[i]),
                    "episode": {"r": true_return, "l": int(self._length[i]), "t": elapsed},
                    "true_return": true_return,
                    "proxy_return": float(info["proxy_return"][i]),
                })
            self._length[done] = 0
        return obs, reward.astype(np.float32), done, infos

    def close(self) -> None:
        self.venv.close()

    def get_images(self) -> Sequence[np.ndarray | None]:
        return [G.render_rgb(o) for o in self.venv.core.observe()]

    def get_attr(self, attr_name: str, indices: VecEnvIndices = None) -> list[Any]:
        value = getattr(self.venv, attr_name)
        return [value for _ in self._get_indices(indices)]

    def set_attr(self, attr_name: str, value: Any, indices: VecEnvIndices = None) -> None:
        setattr(self.venv, attr_name, value)

    def env_method(self, method_name: str, *method_args, indices: VecEnvIndices = None, **method_kwargs) -> list[Any]:
        result = getattr(self.venv, method_name)(*method_args, **method_kwargs)
        return [result for _ in self._get_indices(indices)]

    def env_is_wrapped(self, wrapper_class: type[gym.Wrapper], indices: VecEnvIndices = None) -> list[bool]:
        return [False for _ in self._get_indices(indices)]
