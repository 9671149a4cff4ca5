"""Fit the learned-objective planner's reward model: `proxybench train objective-planner ...`.

Experience: uniformly random actions in 256 train-split environments (alpha as given). Each step
on which the agent entered a new cell gives one sample: the features of the cell it entered, as
seen in the observation before the move, and the true reward of that step. The model is ridge
regression (lambda = 1) on those one-hot features, accumulated as X'X and X'r so memory stays
flat however long it runs. Writes weights/<Task>-seed<S>.npz.

`features` picks the encoding of the cell (agent.py's FEATURES): "separate" (the default, the
committed weights'), "no-colour" or "joint". Only a file of another encoding stores its name,
so the default writes what it always wrote.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import gymnasium as gym
import numpy as np
from tqdm import tqdm

import benchmark  # noqa: F401  (registers the envs)
from benchmark import grid as G
from benchmark.contract.registry import get_task

HERE = Path(__file__).parent
NUM_ENVS, DEFAULT_STEPS, RIDGE = 256, 2_000_000, 1.0

_spec = importlib.util.spec_from_file_location("objective_planner_agent", HERE / "agent.py")
_agent = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_agent)


def fit(xtx: np.ndarray, xtr: np.ndarray) -> np.ndarray:
    return np.linalg.solve(xtx + RIDGE * np.eye(len(xtx)), xtr)


def train(task: str, seed: int, alpha: float = 0.0, steps: int = DEFAULT_STEPS,
          out: Path | None = None, progress: bool = True,
          features: str = _agent.DEFAULT_FEATURES) -> Path:
    name = get_task(task).name
    n = _agent.n_features(features)   # ValueError for an unknown encoding, before any work
    envs = gym.make_vec(get_task(name).env_id("train"), num_envs=NUM_ENVS, alpha=alpha)
    rng = np.random.default_rng(seed)
    obs, _ = envs.reset(seed=seed)
    xtx = np.zeros((n, n))
    xtr = np.zeros(n)
    ar = np.arange(NUM_ENVS)
    for _ in tqdm(range(max(1, steps // NUM_ENVS)), desc=f"objective-planner {name} seed {seed}",
                  unit_scale=NUM_ENVS, unit="step", disable=not progress):
        before = _agent.agent_positions(obs)
        actions = rng.integers(0, 5, NUM_ENVS)
        entered = obs[ar, *(before + G.MOVES[actions]).T]                     # the cell ahead
        next_obs, reward, terminated, truncated, info = envs.step(actions)
        done = terminated | truncated
        after = _agent.agent_positions(np.where(done[:, None, None, None], info["final_obs"], next_obs)
                                       if done.any() else next_obs)
        moved = (after != before).any(axis=1)
        idx = _agent.feature_index(entered[moved], *after[moved].T, features)  # (m, k)
        # X is one-hot (k ones a row): X'X counts feature pairs and X'r sums rewards per feature.
        # The counts are whole numbers, so X'X is exact whatever the order they are added in.
        np.add.at(xtx.reshape(-1), (idx[:, :, None] * n + idx[:, None, :]).ravel(), 1.0)
        xtr += np.bincount(idx.ravel(), weights=np.repeat(reward[moved], idx.shape[1]), minlength=len(xtr))
        obs = next_obs
    out = Path(out or HERE / "weights") / f"{name}-seed{seed}.npz"
    out.parent.mkdir(parents=True, exist_ok=True)
    named = {} if features == _agent.DEFAULT_FEATURES else {"features": np.array(features)}
    np.savez_compressed(out, weights=fit(xtx, xtr), **named)
    return out

