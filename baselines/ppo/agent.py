"""The PPO baseline as a submission: the trained network (ppo.py), acting by sampling from its
policy with a generator seeded by the training seed, and counting each episode's steps from the
`first` flags for its clock input.

Weights: weights/<Task>-seed<S>.pt beside this file (float16); only torch is needed to act."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from baselines.ppo.ppo import encode, load_weights

WEIGHTS = Path(__file__).resolve().parent / "weights"


class PPOAgent:
    def __init__(self, model, clock, seed: int):
        self.model, self.clock = model, clock
        self.generator = torch.Generator().manual_seed(seed)

    @torch.inference_mode()
    def act(self, obs: np.ndarray, first: np.ndarray) -> np.ndarray:
        logits, _ = self.model(encode(obs), self.clock.tick(first))
        return torch.multinomial(torch.softmax(logits, -1), 1, generator=self.generator).squeeze(1).numpy()


def make_agent(task_id: str, seed: int, weights: Path = WEIGHTS) -> PPOAgent:
    torch.set_num_threads(1)
    model, clock = load_weights(Path(weights) / f"{task_id}-seed{seed}.pt")
    return PPOAgent(model, clock, seed)
