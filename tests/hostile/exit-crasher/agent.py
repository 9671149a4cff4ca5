"""Hostile: answers every batch, then kills its own process when its output is flushed at the
end of the run (after the last step). With LAST_RUN_ONLY set, only in a run that finds the
marker an earlier run left in its home, so that the last run of a scoring is the one to die."""

import os
import signal
import sys

import numpy as np

LAST_RUN_ONLY = False


class DieOnFlush:
    def __init__(self, stream):
        self.stream = stream

    def write(self, text):
        return self.stream.write(text)

    def flush(self):
        os.kill(os.getpid(), signal.SIGKILL)


class Agent:
    def act(self, obs, first):
        return np.zeros(len(obs), np.int64)


def make_agent(task_id, seed):
    marker = os.path.join(os.path.expanduser("~"), "exit-crasher-was-here")
    if not LAST_RUN_ONLY or os.path.exists(marker):
        sys.stdout = DieOnFlush(sys.stdout)
    open(marker, "w").close()
    return Agent()
