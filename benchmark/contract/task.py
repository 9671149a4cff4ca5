"""The task contract: what a task declares and implements, and the two splits.

A task is a subclass of `Task` in its own module under `tasks/`. It declares what it is (name,
version, description, provenance, tags, the two objectives and a family of other candidate goals,
`contract.candidates`), how long episodes last and how many
episodes each split scores, and implements four things, all batched over levels:

    generate(rng, disambiguating) -> state      levels; `disambiguating[i]` asks for a
                                                held-out-style level (proxy and truth apart);
                                                an optional `time_limit` (n,) ends a level's
                                                episodes earlier than `max_steps`
    step(state, actions, t) -> (true_r, proxy_r, terminated)
                                                actions and t (n,) int64; every task's
                                                step is a kernel (`grid.jit`) looping over
                                                the levels, run by `grid.run_step`
    oracle(objective) -> policy                 'true' or 'proxy'; may read the state
    targets(objective, state) -> (n, H, W) bool the cells that objective's oracle heads for
                                                from `state`, now: what a replay outlines

Splits: `train` draws a disambiguating level with probability alpha (default 0), `heldout`
always does. Level i of a split is a pure function of (task, split, seed_i).
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass
from typing import Callable, ClassVar

import numpy as np

from benchmark import grid as G

from .candidates import check_family

SPLITS = ("train", "heldout")

# A split's level seeds fall in three disjoint blocks, so that no level a learner trains on can
# be a level it is scored on: public scoring seeds [0, 2**32); training streams and `num_levels`
# [2**32, 2**63); private scoring seeds (derived from a secret salt) [2**63, 2**64).
PUBLIC_SEEDS_END = 2**32
TRAINING_SEEDS = (2**32, 2**63)
PRIVATE_SEEDS_START = 2**63
OBJECTIVES = ("true", "proxy")

# A policy maps (obs (B,H,W,3) uint8, first (B,) bool, state dict) -> actions (B,) int.
# Submitted agents never see `state`; reference policies (oracles, random, stay) may.
Policy = Callable[[np.ndarray, np.ndarray, dict], np.ndarray]


@dataclass
class Task:
    """Base class of every task. Subclasses set the class attributes and implement the methods."""

    name: ClassVar[str]
    version: ClassVar[int] = 1
    description: ClassVar[str]
    provenance: ClassVar[str]
    tags: ClassVar[tuple[str, ...]]
    true_objective: ClassVar[str]
    proxy_objective: ClassVar[str]
    misgeneralization: ClassVar[str] = ""  # what a misgeneralizing agent does on held-out levels
    # Other goals an agent could pursue in the task's world (`candidates`): scored from its path
    # after the fact, they let capability count competence aimed at a goal nobody declared.
    candidates: ClassVar[tuple] = ()
    max_steps: ClassVar[int]
    episodes: ClassVar[dict[str, int]] = {"train": 200, "heldout": 500}

    alpha: float = 0.0  # disambiguation fraction of the train split

    def __post_init__(self):
        # Every path to levels (envs, training, scoring, curves) makes a Task: alpha is checked here.
        if isinstance(self.alpha, bool) or not isinstance(self.alpha, numbers.Real) or not 0.0 <= self.alpha <= 1.0:
            raise ValueError(f"{self.name}: alpha must be in [0, 1], got {self.alpha!r}")
        check_family(self.name, self.candidates)

    # --- to implement ------------------------------------------------------------------------
    def generate(self, rng: G.LevelRNG, disambiguating: np.ndarray) -> dict:
        raise NotImplementedError

    def step(self, state: dict, actions: np.ndarray, t: np.ndarray):
        raise NotImplementedError

    def oracle(self, objective: str) -> Policy:
        raise NotImplementedError

    def targets(self, objective: str, state: dict) -> np.ndarray:
        """(n, H, W) bool: the cells `objective`'s oracle heads for from `state`, now (the door;
        the next beacon of an order; the key a plan takes first), or none. Replays and the task
        pictures outline them; they read the level state, so the harness draws them, never the
        agent. Declared next to the oracle and computed the way it computes its goal."""
        raise NotImplementedError

    # --- provided ----------------------------------------------------------------------------
    def levels(self, split: str, seeds) -> dict:
        """The levels of `split` for `seeds`, as one batched state dict."""
        check_split(split)
        seeds = level_seed_array(seeds, self.name)
        rng = G.LevelRNG(seeds, f"{self.name}/{split}")
        if split == "heldout":
            disambiguating = np.ones(len(seeds), bool)
        else:
            disambiguating = rng.chance(self.alpha)
        state = self.generate(rng, disambiguating)
        state["disambiguating"] = disambiguating
        state["seed"] = seeds
        return state

    def reward_decay(self, t: np.ndarray) -> np.ndarray:
        """jaxgmg's time discount: a goal reached at step t pays 1 - 0.9 t / max_steps."""
        if isinstance(t, np.ndarray) and t.shape == (1,):  # a plain env: the same double arithmetic
            return np.array([1.0 - 0.9 * float(t[0]) / self.max_steps])
        return 1.0 - 0.9 * np.asarray(t, np.float64) / self.max_steps

    @classmethod
    def env_id(cls, split: str) -> str:
        return f"proxybench/{cls.name}-{split}-v{cls.version}"

    @classmethod
    def summary(cls) -> dict:
        return {
            "task": cls.name, "version": cls.version, "tags": ", ".join(cls.tags),
            "true objective": cls.true_objective, "proxy": cls.proxy_objective,
            "max steps": cls.max_steps,
            "episodes (train/held-out)": f"{cls.episodes['train']}/{cls.episodes['heldout']}",
        }


def check_split(split: str) -> None:
    if split not in SPLITS:
        raise ValueError(f"unknown split {split!r}; expected one of {', '.join(SPLITS)}")


def level_seed_array(seeds, task_name: str) -> np.ndarray:
    """Level seeds as a uint64 array (n,); each must be a whole number from 0 to 2**64 - 1
    (ValueError otherwise: numpy would wrap a negative seed round to a huge one)."""
    if isinstance(seeds, np.ndarray) and (seeds.dtype.kind == "u" or seeds.dtype.kind == "i" and not (seeds < 0).any()):
        return seeds.astype(np.uint64, copy=False).reshape(-1)
    # Anything else, item by item (a list mixing ints above 2**63 with small ones would turn to
    # floats in a plain np.asarray).
    values = np.asarray(seeds, dtype=object).reshape(-1).tolist()
    if all(isinstance(v, (int, np.integer)) and not isinstance(v, bool) and 0 <= v < 2**64 for v in values):
        return np.array(values, np.uint64)
    raise ValueError(f"{task_name}: a level seed must be a whole number from 0 to 2**64 - 1, got {seeds!r}"[:300])
