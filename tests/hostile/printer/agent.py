"""Hostile: prints 20 MB on stdout and stderr, through Python and straight to the descriptors."""

import os
import sys

import numpy as np


class Agent:
    def act(self, obs, first):
        chunk = "x" * (1 << 20)
        for _ in range(7):
            print(chunk)
            sys.stderr.write(chunk)
            os.write(1, chunk.encode())
        return np.zeros(len(obs), np.int64)


def make_agent(task_id, seed):
    return Agent()
