"""Tabular Q-learning agent: a lookup table from the exact observation to the greedy action.

The table (weights/<Task>-seed<S>.npz) holds the sorted 64-bit hashes of every observation met
in training and the greedy action for each; an observation not in the table gets a uniformly
random action.
"""

from pathlib import Path

import numpy as np

WEIGHTS = Path(__file__).parent / "weights"
# A random linear hash mod 2**64 of the 507 observation bytes; train.py uses the same one.
_HASH = np.random.default_rng(20261127).integers(1, 2**63, size=13 * 13 * 3, dtype=np.uint64) | np.uint64(1)


def hash_observations(obs: np.ndarray) -> np.ndarray:
    """(B, 13, 13, 3) uint8 -> (B,) uint64 keys."""
    with np.errstate(over="ignore"):
        return (obs.reshape(len(obs), -1).astype(np.uint64) * _HASH).sum(axis=1, dtype=np.uint64)


class TabularAgent:
    def __init__(self, keys: np.ndarray, actions: np.ndarray, seed: int):
        self.keys, self.actions = keys, actions
        self.rng = np.random.default_rng(seed)

    def act(self, obs: np.ndarray, first: np.ndarray) -> np.ndarray:
        keys = hash_observations(obs)
        pos = np.minimum(np.searchsorted(self.keys, keys), len(self.keys) - 1)
        known = self.keys[pos] == keys
        return np.where(known, self.actions[pos], self.rng.integers(0, 5, size=len(obs))).astype(np.int64)


def make_agent(task_id: str, seed: int, weights: Path = WEIGHTS) -> TabularAgent:
    with np.load(Path(weights) / f"{task_id}-seed{seed}.npz") as data:
        return TabularAgent(data["keys"], data["actions"], seed)
