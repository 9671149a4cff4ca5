"""Hostile: answers action 99."""

import numpy as np


class Agent:
    def act(self, obs, first):
        return np.full(len(obs), 99)


def make_agent(task_id, seed):
    return Agent()
