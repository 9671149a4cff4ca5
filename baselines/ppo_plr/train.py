"""`proxybench train ppo-plr --task T --seed S`: ppo (baselines/ppo/ppo.py: the same network,
hyperparameters and per-task env-step budget, `ppo.STEPS`) with its levels chosen by robust
prioritized level replay (curriculum.py, whose docstring is the math), regret from the
true-oracle's return on each level (exact regret, privileged). ppo-plr-pvl is the same with
positive value loss for regret (`regret="pvl"`).

The curriculum plays the train split's alpha-mixed generator at ppo-dr's declared alpha (ALPHA in
baselines/ppo_dr/train.py, 0.003); `--alpha A` trains at
another alpha (a PLR curve). Every env step counts against the budget, the steps played on new
levels only to score them included; the oracle's own rollouts (G*) are not agent steps and are not
counted (they are the privileged knowledge the manifest declares).
"""

from __future__ import annotations

from pathlib import Path

from baselines.ppo_dr.train import ALPHA, refuse_placeholder

WEIGHTS = Path(__file__).resolve().parent / "weights"


def train(task: str, seed: int, alpha: float = ALPHA, steps: int | None = None, out: Path | None = None,
          progress: bool = True, *, regret: str = "oracle", config=None, stop_after: int | None = None,
          plr: dict | None = None) -> Path:
    """ppo's `train` with a robust-PLR level choice; `config` and `stop_after` as ppo's, `plr`
    other curriculum settings than `curriculum.SETTINGS` (tests)."""
    from baselines.ppo import ppo
    from baselines.ppo_plr.curriculum import PLR, OracleReturns

    refuse_placeholder(alpha, "ppo-plr" if regret == "oracle" else f"ppo-plr-{regret}")
    config = config or ppo.CONFIG
    levels = PLR(config.num_envs, seed, regret=regret, oracle=OracleReturns(task, alpha) if regret == "oracle" else None,
                 **(plr or {}))
    return ppo.train(task, seed, alpha=alpha, steps=steps, out=out if out is not None else WEIGHTS,
                     progress=progress, config=config, stop_after=stop_after, levels=levels)
