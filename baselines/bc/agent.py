"""Behaviour-cloning agent: the shared small network (baselines/nets.py) fitted to true-oracle
demonstrations on the train split. It samples its actions from the cloned policy with a torch
generator seeded by the training seed (reproducible for a given sequence of calls): on train
levels sampling scored clearly higher than argmax, which gets stuck walking back and forth
where the clone is unsure (see baselines/README.md).
Weights: weights/<Task>-seed<S>.pt beside this file; only torch is needed to act."""

from pathlib import Path

import torch

from baselines import nets

WEIGHTS = Path(__file__).resolve().parent / "weights"


def make_agent(task_id: str, seed: int, weights: Path = WEIGHTS) -> nets.SamplingAgent:
    torch.set_num_threads(1)
    return nets.SamplingAgent(nets.load_policy(Path(weights) / f"{task_id}-seed{seed}.pt"), seed)
