"""The envs: the batched core (`core`: B level slots stepping together), levels made ahead of
need (`prefetch`), its gymnasium faces (`env`), and a stable-baselines3 adapter (`sb3`, which
needs the `deep` extra and is imported on its own)."""

from .core import BatchedCore
from .env import ProxyEnv, ProxyVectorEnv, register_envs

__all__ = ["BatchedCore", "ProxyEnv", "ProxyVectorEnv", "register_envs"]
