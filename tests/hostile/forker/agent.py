"""Hostile: forks 200 children that each sleep for a minute (bounded, so that a failing process
limit cannot take the machine down)."""

import os
import time

import numpy as np


class Agent:
    forked = False

    def act(self, obs, first):
        if not Agent.forked:
            Agent.forked = True
            for _ in range(200):
                if os.fork() == 0:
                    time.sleep(60)
                    os._exit(0)
        return np.zeros(len(obs), np.int64)


def make_agent(task_id, seed):
    return Agent()
