"""The PPO baseline as a submission: the trained network (ppo.py), acting by sampling from its
policy with a generator seeded by the training seed, and counting each episode's steps from the
`first` flags for its clock input (and, for a network with memory, zeroing a row's memory where
its episode begins).

Weights: weights/<Task>-seed<S>.pt beside this file (float16); only torch is needed to act."""

from __future__ import annotations

from pathlib import Path

import torch

from baselines.ppo.ppo import PPOAgent, load_weights

WEIGHTS = Path(__file__).resolve().parent / "weights"


def make_agent(task_id: str, seed: int, weights: Path = WEIGHTS) -> PPOAgent:
    torch.set_num_threads(1)
    model, clock = load_weights(Path(weights) / f"{task_id}-seed{seed}.pt")
    return PPOAgent(model, clock, seed)
