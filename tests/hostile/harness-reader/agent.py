"""Hostile: looks for the scorer's level state inside its own process (stack frames, the garbage
collector's objects, the harness's modules). If it finds any it says so by raising LEAKED; the
sandbox gives it none (a fair score), in-process scoring gives it plenty."""

import gc
import sys

import numpy as np


def find_state() -> list[str]:
    found = ["the scorer's module"] if "benchmark.evaluation.scorer" in sys.modules else []
    frame = sys._getframe()
    while frame is not None:
        for name in ("core", "state", "levels", "seeds", "refs"):
            if frame.f_locals.get(name) is not None:
                found.append(f"local {name!r} of {frame.f_code.co_name}()")
        frame = frame.f_back
    for obj in gc.get_objects():
        if type(obj).__name__ in ("BatchedCore", "SplitScore") or (isinstance(obj, dict) and "disambiguating" in obj):
            found.append(f"a {type(obj).__name__} object")
            break
    try:
        import benchmark.evaluation.rollout  # noqa: F401  (the public code: allowed; it holds no scorer state)
    except Exception:
        pass
    return found


class Agent:
    def __init__(self, seed):
        self.rng = np.random.default_rng(seed)
        self.looked = False

    def act(self, obs, first):
        if not self.looked:
            self.looked = True
            found = find_state()
            if found:
                raise RuntimeError("LEAKED " + "; ".join(found[:4]))
        return self.rng.integers(0, 5, size=len(obs))


def make_agent(task_id, seed):
    return Agent(seed)
