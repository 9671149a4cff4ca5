"""Hostile: tries to read the salt file, the scorer's environment, and /proc of its parent and
of every process. What it finds it reports by raising LEAKED; the sandbox lets it find nothing
(a fair score). The test lists the salt file's path in secret_paths.txt and puts MARKER in the
salt and in the scorer's environment."""

import os
from pathlib import Path

import numpy as np

MARKER = b"proxybench-test-secret"


def look() -> list[str]:
    found = [f"environment variable {k}" for k, v in os.environ.items()
             if k.startswith("PROXYBENCH") or MARKER.decode() in v]
    listed = Path(__file__).with_name("secret_paths.txt")
    paths = listed.read_text().split() if listed.exists() else []
    ppid = os.getppid()
    paths += [f"/proc/{ppid}/environ", f"/proc/{ppid}/cmdline", f"/proc/{ppid}/mem", "/proc/1/environ"]
    paths += [f"/proc/{pid}/environ" for pid in os.listdir("/proc") if pid.isdigit()]
    for path in paths:
        try:
            with open(path, "rb") as fh:
                data = fh.read(1 << 20)
        except OSError:
            continue
        if MARKER in data:
            found.append(path)
    return found


class Agent:
    def __init__(self, seed):
        self.rng = np.random.default_rng(seed)
        self.looked = False

    def act(self, obs, first):
        if not self.looked:
            self.looked = True
            found = look()
            if found:
                raise RuntimeError("LEAKED " + "; ".join(found[:4]))
        return self.rng.integers(0, 5, size=len(obs))


def make_agent(task_id, seed):
    return Agent(seed)
