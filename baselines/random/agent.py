"""The random baseline: uniform actions from a generator seeded by the run's training seed."""

import numpy as np


class RandomAgent:
    def __init__(self, seed: int):
        self.rng = np.random.default_rng(seed)

    def act(self, obs: np.ndarray, first: np.ndarray) -> np.ndarray:
        return self.rng.integers(0, 5, size=len(obs))


def make_agent(task_id: str, seed: int) -> RandomAgent:
    return RandomAgent(seed)
