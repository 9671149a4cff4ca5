"""Seed sets: the level seeds each split is scored on, public or derived from a secret salt."""

from __future__ import annotations

import hashlib
import hmac

import numpy as np

from benchmark.contract.task import PRIVATE_SEEDS_START, PUBLIC_SEEDS_END, SPLITS, Task, check_split

def public_seeds(task: type[Task] | Task, split: str, n: int | None = None) -> np.ndarray:
    """The fixed public level seeds of a split: 0..n-1 (levels differ per task and split)."""
    check_split(split)
    n = task.episodes[split] if n is None else n
    if not 0 <= n <= PUBLIC_SEEDS_END:
        raise ValueError(f"{task.name}: at most {PUBLIC_SEEDS_END} public seeds, asked for {n}")
    return np.arange(n, dtype=np.uint64)


def private_seeds(task: type[Task] | Task, split: str, salt: bytes, n: int | None = None) -> np.ndarray:
    """Held-out seeds derived from a secret salt: HMAC-SHA256(salt, task/split/i) in the private
    block [2**63, 2**64), apart from the public seeds and from every training stream."""
    check_split(split)
    n = task.episodes[split] if n is None else n
    out = np.empty(n, np.uint64)
    for i in range(n):
        digest = hmac.new(salt, f"{task.name}/{split}/{i}".encode(), hashlib.sha256).digest()
        out[i] = int.from_bytes(digest[:8], "little") | PRIVATE_SEEDS_START
    return out


def seed_list_hash(seeds: np.ndarray) -> str:
    return hashlib.sha256(np.asarray(seeds, np.uint64).tobytes()).hexdigest()[:16]


SEED_SETS = ("public", "private")


def split_seeds(task: Task, episodes: int | None = None, seed_set: str = "public",
                salt: bytes | None = None) -> dict[str, np.ndarray]:
    """The level seeds of each split. The private set replaces the held-out seeds with seeds
    derived from the secret salt; the train split keeps its public seeds."""
    if seed_set not in SEED_SETS:
        raise ValueError(f"unknown seed set {seed_set!r}; expected one of {', '.join(SEED_SETS)}")
    seeds = {split: public_seeds(task, split, episodes) for split in SPLITS}
    if seed_set == "private":
        if not salt:
            raise ValueError("the private seed set needs a salt")
        seeds["heldout"] = private_seeds(task, "heldout", salt, episodes)
    return seeds
