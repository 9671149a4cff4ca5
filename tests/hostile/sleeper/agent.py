"""Hostile: sleeps forever in its second act call, ignoring SIGTERM."""

import signal
import time

import numpy as np


class Agent:
    calls = 0

    def act(self, obs, first):
        Agent.calls += 1
        if Agent.calls == 2:
            signal.signal(signal.SIGTERM, signal.SIG_IGN)
            time.sleep(10 ** 6)
        return np.zeros(len(obs), np.int64)


def make_agent(task_id, seed):
    return Agent()
