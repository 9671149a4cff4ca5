"""`proxybench train ppo-plr-pvl --task T --seed S`: ppo-plr (baselines/ppo_plr/) with positive
value loss for regret, the papers' estimator: no privileged knowledge."""

from __future__ import annotations

from pathlib import Path

from baselines.ppo_dr.train import ALPHA

WEIGHTS = Path(__file__).resolve().parent / "weights"


def train(task: str, seed: int, alpha: float = ALPHA, steps: int | None = None, out: Path | None = None,
          progress: bool = True, *, config=None, stop_after: int | None = None, plr: dict | None = None) -> Path:
    from baselines.ppo_plr.train import train as plr_train

    return plr_train(task, seed, alpha=alpha, steps=steps, out=out if out is not None else WEIGHTS,
                     progress=progress, regret="pvl", config=config, stop_after=stop_after, plr=plr)
