"""Reference policies the benchmark runs itself: stay, random, and the navigation oracle.

They are not submissions: they may read the level state, and they are deterministic given the
level seeds, whatever the batch they run in (the random policy hashes (level seed, step)).
"""

from __future__ import annotations

from typing import Callable

import numpy as np

from benchmark import grid as G


def stay(obs: np.ndarray, first: np.ndarray, state: dict) -> np.ndarray:
    """Never moves: the return of achieving nothing."""
    return np.full(len(obs), G.STAY, np.int64)


class UniformRandom:
    """Uniform random actions (over the first `actions` of up, right, down, left, stay); action t
    of the episode on level seed s is a hash of (s, t), so the chance level is the same whichever
    batch or order the episodes run in."""

    def __init__(self, key: str = "random", actions: int = 5):
        self._key = np.uint64(G.stable_hash64(key))
        self._actions = np.uint64(actions)
        self._t = None

    def __call__(self, obs, first, state):
        if self._t is None or len(self._t) != len(obs):
            self._t = np.zeros(len(obs), np.uint64)
        self._t = np.where(first, np.uint64(0), self._t + np.uint64(1))
        with np.errstate(over="ignore"):
            h = G.splitmix64(G.splitmix64(state["seed"] ^ self._key) + self._t)
        return (h % self._actions).astype(np.int64)


def constant(action: int):
    """Always the same action: purposeless, yet it walks somewhere (a wall stops it)."""
    def policy(obs, first, state):
        return np.full(len(obs), action, np.int64)
    return policy


class NavigateTo:
    """Oracle policy: the shortest path to the nearest cell of `targets(state)` (B, H, W) bool,
    by BFS on the current grid; stays when there is none. Distance maps are recomputed only for
    levels whose target set changed or whose episode just began."""

    def __init__(self, targets: Callable[[dict], np.ndarray], blocking: tuple[str, ...] = ("wall",),
                 avoid: Callable[[dict], np.ndarray] | None = None):
        self.targets, self.blocking, self.avoid = targets, blocking, avoid
        self._targets = self._dist = None

    def __call__(self, obs, first, state):
        targets = self.targets(state)
        if self._dist is None or self._dist.shape != targets.shape:
            changed = np.ones(len(targets), bool)
            self._dist = np.zeros(targets.shape, np.int32)
        else:
            changed = first | (targets != self._targets).any(axis=(1, 2))
        if changed.any():
            grid = state["grid"][changed]
            free = G.passable(grid, self.blocking)
            if self.avoid is not None:
                free &= ~self.avoid(state)[changed] | targets[changed]
            self._dist[changed] = G.distances(free, targets[changed])
        self._targets = targets
        return G.descend(self._dist, state["agent"])


def cells_of(obj: str) -> Callable[[dict], np.ndarray]:
    """A targets function: every cell holding `obj`."""
    return lambda state: G.is_type(state["grid"], obj)
