"""Hostile: finds the shared memory its observations arrive in (/proc/self/maps), asks the kernel
to make its read-only mapping writable (mprotect), and writes into it. If that works it says so
by raising; the scorer seals the memory against new writable mappings before the agent's process
maps it, so the request fails and the agent plays at random (a fair score)."""

import ctypes
import mmap

import numpy as np


def write_into_shared_memory() -> str | None:
    libc = ctypes.CDLL(None, use_errno=True)
    libc.mprotect.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int]
    with open("/proc/self/maps") as maps:
        for line in maps:
            if "proxybench-obs" in line:
                start, end = (int(x, 16) for x in line.split()[0].split("-"))
                if libc.mprotect(start, end - start, mmap.PROT_READ | mmap.PROT_WRITE) == 0:
                    ctypes.memset(end - 16, 0x41, 16)
                    return f"wrote into the shared memory at {end - 16:#x}"
    return None


class Agent:
    def __init__(self, seed):
        self.rng = np.random.default_rng(seed)
        self.tried = False

    def act(self, obs, first):
        if not self.tried:
            self.tried = True
            done = write_into_shared_memory()
            if done:
                raise RuntimeError("TAMPERED " + done)
        return self.rng.integers(0, 5, size=len(obs))


def make_agent(task_id: str, seed: int) -> Agent:
    return Agent(seed)
