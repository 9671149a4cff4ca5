"""Hostile: raises on its third batch."""

import numpy as np


class Agent:
    calls = 0

    def act(self, obs, first):
        Agent.calls += 1
        if Agent.calls == 3:
            raise RuntimeError("third batch")
        return np.zeros(len(obs), np.int64)


def make_agent(task_id, seed):
    return Agent()
