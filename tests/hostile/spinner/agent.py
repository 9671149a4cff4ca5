"""Hostile: burns CPU in a busy loop (for at most 60 s of wall clock, so that a failing limit
cannot hold the machine for long)."""

import time

import numpy as np


class Agent:
    def act(self, obs, first):
        end = time.monotonic() + 60
        while time.monotonic() < end:
            pass
        return np.zeros(len(obs), np.int64)


def make_agent(task_id, seed):
    return Agent()
