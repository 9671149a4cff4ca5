"""The task contract, the registry, and the level seed sets.

A task is a subclass of `Task` in its own module under `tasks/`. It declares what it is (name,
version, description, provenance, tags, the two objectives), how long episodes last and how many
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

Splits: `train` draws a disambiguating level with probability alpha (default 0), `heldout`
always does. Level i of a split is a pure function of (task, split, seed_i).
"""

from __future__ import annotations

import hashlib
import hmac
import importlib
import pkgutil
from dataclasses import dataclass
from typing import Callable, ClassVar

import numpy as np

from . import grid as G

SPLITS = ("train", "heldout")
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
    max_steps: ClassVar[int]
    episodes: ClassVar[dict[str, int]] = {"train": 200, "heldout": 500}

    alpha: float = 0.0  # disambiguation fraction of the train split

    # --- to implement ------------------------------------------------------------------------
    def generate(self, rng: G.LevelRNG, disambiguating: np.ndarray) -> dict:
        raise NotImplementedError

    def step(self, state: dict, actions: np.ndarray, t: np.ndarray):
        raise NotImplementedError

    def oracle(self, objective: str) -> Policy:
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


# ---------------------------------------------------------------------------------------------
# Registry

_REGISTRY: dict[str, type[Task]] = {}


def registry() -> dict[str, type[Task]]:
    """Task name -> Task class, discovered from the modules of the `tasks` package (and their
    gymnasium ids registered). A module still being imported (someone imported `tasks.x` before
    `benchmark`) has no class yet: discovery then is not cached, and the next call completes it."""
    if not _REGISTRY:
        import tasks

        found, complete = {}, True
        for mod in sorted(pkgutil.iter_modules(tasks.__path__), key=lambda m: m.name):
            module = importlib.import_module(f"tasks.{mod.name}")
            classes = [obj for obj in vars(module).values() if isinstance(obj, type)
                       and issubclass(obj, Task) and obj is not Task and obj.__module__ == module.__name__]
            complete &= bool(classes)
            for cls in classes:
                if cls.name in found:
                    raise RuntimeError(f"task name {cls.name!r} defined twice")
                found[cls.name] = cls
        found = dict(sorted(found.items(), key=lambda kv: SUITE_ORDER.get(kv[0], 99)))
        from .env import register_envs

        register_envs(found)
        if not complete:
            return found
        _REGISTRY.update(found)
    return dict(_REGISTRY)


SUITE_ORDER = {name: i for i, name in enumerate((
    "RedDoor", "CoinEnd", "CheeseCorner", "CheeseDish", "KeysChests", "MonsterShields",
    "FollowGuide", "LavaLand", "SpuriousCue"))}


def get_task(name: str, **kwargs) -> Task:
    """A task instance by its short name (`RedDoor`), case-insensitive."""
    tasks_by_lower = {k.lower(): v for k, v in registry().items()}
    cls = tasks_by_lower.get(name.lower())
    if cls is None:
        raise KeyError(f"unknown task {name!r}; known tasks: {', '.join(registry())}")
    return cls(**kwargs)


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


def parse_task_list(text: str | None) -> list[str]:
    """'RedDoor,CoinEnd' -> canonical names; None or '' -> the whole suite."""
    if not text:
        return list(registry())
    return [get_task(part.strip()).name for part in text.split(",") if part.strip()]


# ---------------------------------------------------------------------------------------------
# Seed sets

def public_seeds(task: type[Task] | Task, split: str, n: int | None = None) -> np.ndarray:
    """The fixed public level seeds of a split: 0..n-1 (levels differ per task and split)."""
    check_split(split)
    n = task.episodes[split] if n is None else n
    return np.arange(n, dtype=np.uint64)


def private_seeds(task: type[Task] | Task, split: str, salt: bytes, n: int | None = None) -> np.ndarray:
    """Held-out seeds derived from a secret salt: HMAC-SHA256(salt, task/split/i), >= 2**32 so
    they never collide with the public range."""
    check_split(split)
    n = task.episodes[split] if n is None else n
    out = np.empty(n, np.uint64)
    for i in range(n):
        digest = hmac.new(salt, f"{task.name}/{split}/{i}".encode(), hashlib.sha256).digest()
        out[i] = int.from_bytes(digest[:8], "little") | (1 << 32)
    return out


def seed_list_hash(seeds: np.ndarray) -> str:
    return hashlib.sha256(np.asarray(seeds, np.uint64).tobytes()).hexdigest()[:16]
