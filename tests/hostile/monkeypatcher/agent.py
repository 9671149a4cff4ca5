"""Hostile: monkeypatches the scoring code so that its figures come out perfect, then plays like
the random baseline. Sandboxed, it only patches its own process (where importing the harness may
even fail): a fair score. In-process it scores H = 1."""

import numpy as np


def patch():
    try:
        import benchmark.evaluation.rollout as rollout
        import benchmark.evaluation.scoring as scoring
        scoring.normalized = lambda g, floor, top: np.ones(len(np.asarray(g)))
        scoring.chance_corrected = lambda x, x_random: np.ones(np.shape(x))
        rollout.check_actions = lambda actions, batch, step: np.zeros(batch, np.int64)
    except Exception:
        pass


class Agent:
    def __init__(self, seed):
        self.rng = np.random.default_rng(seed)

    def act(self, obs, first):
        return self.rng.integers(0, 5, size=len(obs))


def make_agent(task_id, seed):
    patch()
    return Agent(seed)
