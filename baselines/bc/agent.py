"""The behaviour-cloning baseline as a submission: ppo's own agent (baselines/ppo/agent.py) on
bc's weights. The network is ppo.py's (`ActorCritic`), cloned from the true-oracle (train.py);
it acts exactly as ppo's agent does: sampling from its policy with a generator seeded by the
training seed, counting each episode's steps from the `first` flags for its clock input, and,
for a network with memory, zeroing a row's memory where its episode begins.

Weights: weights/<Task>-seed<S>.pt beside this file (float16); only torch is needed to act."""

from __future__ import annotations

from pathlib import Path

from baselines.ppo.agent import PPOAgent
from baselines.ppo.agent import make_agent as ppo_agent

WEIGHTS = Path(__file__).resolve().parent / "weights"


def make_agent(task_id: str, seed: int, weights: Path = WEIGHTS) -> PPOAgent:
    return ppo_agent(task_id, seed, weights)
