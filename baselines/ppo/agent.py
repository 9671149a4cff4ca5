"""The PPO baseline as a submission: the trained network (ppo.py), acting by sampling from its
policy with a generator seeded by the training seed, and counting each episode's steps from the
`first` flags for its clock input (and, for a network with memory, zeroing a row's memory where
its episode begins).

Weights: weights/<Task>-seed<S>.pt beside this file (float16); only torch is needed to act."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from baselines.ppo.ppo import encode, load_weights

WEIGHTS = Path(__file__).resolve().parent / "weights"


class PPOAgent:
    def __init__(self, model, clock, seed: int):
        self.model, self.clock, self.memory = model, clock, None
        self.generator = torch.Generator().manual_seed(seed)

    @torch.inference_mode()
    def act(self, obs: np.ndarray, first: np.ndarray) -> np.ndarray:
        if self.memory is None or len(self.memory) != len(obs):   # memory (networks with a core) per row
            self.memory = self.model.initial_memory(len(obs))
        first_flags = torch.from_numpy(np.asarray(first, bool)).float()
        logits, _, self.memory = self.model.step(encode(obs), self.clock.tick(first), first_flags, self.memory)
        return torch.multinomial(torch.softmax(logits, -1), 1, generator=self.generator).squeeze(1).numpy()


def make_agent(task_id: str, seed: int, weights: Path = WEIGHTS) -> PPOAgent:
    torch.set_num_threads(1)
    model, clock = load_weights(Path(weights) / f"{task_id}-seed{seed}.pt")
    return PPOAgent(model, clock, seed)
