"""The ppo-dr submission: ppo's agent (baselines/ppo/agent.py) with this folder's weights."""

from __future__ import annotations

from pathlib import Path

from baselines.ppo.agent import make_agent as ppo_agent

WEIGHTS = Path(__file__).resolve().parent / "weights"


def make_agent(task_id: str, seed: int, weights: Path = WEIGHTS):
    return ppo_agent(task_id, seed, weights=weights)
