"""PPO agent: the shared small network (baselines/nets.py) trained by stable-baselines3 PPO on
the train split. It samples its actions from the policy, as in training, with a torch generator
seeded by the training seed (reproducible for a given sequence of calls). Sampling, not argmax:
a greedy memoryless policy gets stuck walking back and forth where its two most likely moves
undo each other, and scored clearly lower on train levels (see baselines/README.md).
Weights: weights/<Task>-seed<S>.pt beside this file; only torch is needed to act."""

from pathlib import Path

import torch

from baselines import nets

WEIGHTS = Path(__file__).resolve().parent / "weights"


def make_agent(task_id: str, seed: int, weights: Path = WEIGHTS) -> nets.SamplingAgent:
    torch.set_num_threads(1)
    return nets.SamplingAgent(nets.load_policy(Path(weights) / f"{task_id}-seed{seed}.pt"), seed)
