"""Hostile: allocates memory without bound (64 MB at a time, touched; capped at 8 GB so that a
failing limit cannot take the machine down, after which it would answer normally)."""

import numpy as np


class Agent:
    def act(self, obs, first):
        hoard = []
        for _ in range(128):
            hoard.append(np.ones(1 << 23))
        return np.zeros(len(obs), np.int64)


def make_agent(task_id, seed):
    return Agent()
