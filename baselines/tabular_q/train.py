"""Train the tabular Q-learning baseline: `proxybench train tabular-q --task T --seed S`.

Epsilon-greedy one-step Q-learning over a batch of 64 environments on 200 levels of the train
split (`num_levels=200`: the first 200 seeds of the training block, never a scoring level),
epsilon decaying linearly from 1 to 0.05 over the first half of training, learning rate 0.5,
discount 0.97. Writes weights/<Task>-seed<S>.npz: the greedy
action of every state whose Q values were updated, at most the 65,536 most visited (only
MonsterShields, whose moving monsters make ~1M states, reaches the cap).
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import gymnasium as gym
import numpy as np
from tqdm import tqdm

import benchmark  # noqa: F401  (registers the envs)
from benchmark.contract.registry import get_task

HERE = Path(__file__).parent
NUM_LEVELS, NUM_ENVS = 200, 64
DEFAULT_STEPS = 3_000_000
LR, GAMMA, EPS_END = 0.5, 0.97, 0.05
MAX_STATES = 65536   # the committed table keeps the most visited states (MonsterShields meets ~1M)

_spec = importlib.util.spec_from_file_location("tabular_q_agent", HERE / "agent.py")
_agent = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_agent)


class QTable:
    """Rows of Q values for observation keys, growing as new observations are met."""

    def __init__(self):
        self.index: dict[int, int] = {}
        self.q = np.zeros((1 << 16, 5), np.float32)
        self.visits = np.zeros(1 << 16, np.int64)

    def rows(self, keys: np.ndarray) -> np.ndarray:
        index = self.index
        rows = np.fromiter((index.setdefault(k, len(index)) for k in keys.tolist()), np.int64, len(keys))
        if len(index) > len(self.q):
            self.q = np.concatenate([self.q, np.zeros_like(self.q)])
            self.visits = np.concatenate([self.visits, np.zeros_like(self.visits)])
        return rows


def train(task: str, seed: int, alpha: float = 0.0, steps: int = DEFAULT_STEPS,
          out: Path | None = None, progress: bool = True) -> Path:
    name = get_task(task).name
    envs = gym.make_vec(get_task(name).env_id("train"), num_envs=NUM_ENVS, alpha=alpha, num_levels=NUM_LEVELS)
    rng = np.random.default_rng(seed)
    table = QTable()
    obs, _ = envs.reset(seed=seed)
    rows = table.rows(_agent.hash_observations(obs))
    iterations = max(1, steps // NUM_ENVS)
    returns, episode_returns = np.zeros(NUM_ENVS), []
    bar = tqdm(range(iterations), desc=f"tabular-q {name} seed {seed}", unit_scale=NUM_ENVS,
               unit="step", disable=not progress)
    for it in bar:
        eps = max(EPS_END, 1.0 - (1.0 - EPS_END) * it / (0.5 * iterations))
        q = table.q[rows]
        greedy = (q + rng.random(q.shape) * 1e-6).argmax(axis=1)          # random tie-breaks
        actions = np.where(rng.random(NUM_ENVS) < eps, rng.integers(0, 5, NUM_ENVS), greedy)
        obs, reward, terminated, truncated, info = envs.step(actions)
        done = terminated | truncated
        after = np.where(done[:, None, None, None], info["final_obs"], obs) if done.any() else obs
        next_rows = table.rows(_agent.hash_observations(after))
        target = reward + GAMMA * ~terminated * table.q[next_rows].max(axis=1)
        table.q[rows, actions] += LR * (target - table.q[rows, actions])
        np.add.at(table.visits, rows, 1)
        rows = next_rows if not done.any() else np.where(done, table.rows(_agent.hash_observations(obs)), next_rows)
        returns += reward
        episode_returns += returns[done].tolist()
        returns[done] = 0.0
        if progress and it % 200 == 0 and episode_returns:
            bar.set_postfix(states=len(table.index), ret=f"{np.mean(episode_returns[-500:]):.3f}")
    keys = np.fromiter(table.index.keys(), np.uint64, len(table.index))
    rows = np.fromiter(table.index.values(), np.int64, len(table.index))
    q, visits = table.q[rows], table.visits[rows]
    visited = (q != 0).any(axis=1)                      # states never updated carry no knowledge
    if visited.sum() > MAX_STATES:
        keep = np.flatnonzero(visited)[np.argsort(-visits[visited], kind="stable")[:MAX_STATES]]
        visited = np.zeros_like(visited)
        visited[keep] = True
    order = np.argsort(keys[visited])
    out = Path(out or HERE / "weights") / f"{name}-seed{seed}.npz"
    out.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(out, keys=keys[visited][order], actions=q[visited].argmax(axis=1)[order].astype(np.uint8))
    return out
