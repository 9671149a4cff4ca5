"""Hostile: answers actions of the wrong shape."""

import numpy as np


class Agent:
    def act(self, obs, first):
        return np.zeros((len(obs), 2), np.int64)


def make_agent(task_id, seed):
    return Agent()
