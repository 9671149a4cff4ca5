"""Evaluation: seed sets (`seeds`), rollouts into episode tables (`rollout`), the reference
policies and their cache (`references`, `cache`), the math (`scoring`), tables to split scores
(`tables`), playing and scoring an agent (`scorer`), and results files (`results`)."""

from .results import RESULTS, load_results, write_json_atomic
from .rollout import AgentError, rollout
from .scorer import score_agent

__all__ = ["RESULTS", "load_results", "write_json_atomic", "AgentError", "rollout", "score_agent"]
