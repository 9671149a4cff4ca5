"""Hostile: writes garbage into every file descriptor it has, the protocol's pipes included: a
reply header claiming 4 GB of error message, then junk."""

import os

import numpy as np


class Agent:
    def act(self, obs, first):
        for fd in range(64):
            try:
                os.write(fd, b"E\xff\xff\xff\xff" + b"garbage!" * 64)
            except OSError:
                pass
        return np.zeros(len(obs), np.int64)


def make_agent(task_id, seed):
    return Agent()
