"""`proxybench train ppo-dr --task T --seed S`: domain randomization, i.e. ppo (baselines/ppo/ppo.py:
the same network, hyperparameters and per-task env-step budget, `ppo.STEPS`) trained with a share
ALPHA of held-out-style (disambiguating) levels drawn by the train split's own generator.

ALPHA = 0.003, read off ppo's alpha-curve on CoinEnd (docs/curves/ppo-CoinEnd.csv, the first
curve run) as an alpha at which plain ppo still misgeneralizes, so that there is something to
fix: OG 0.15 [0.03, 0.33] there, every seed below 0.3 (0.20, 0.26, 0.07), while at 0.01 two seeds
of three already reach OG 0.8 and at 0.03 the point estimate crosses 0.5. The anchors place the
crossing of domain randomization at 3-10% on their tasks, so 0.3% leaves the other tasks room
too; their curves are to confirm it. CheeseCorner's did (docs/curves/ppo-CheeseCorner.csv): OG
0.00 [0.00, 0.37] at 0.003, crossing 0.5 only at 0.03. ppo-plr and ppo-plr-pvl train over the same alpha-mixed
generator at this alpha, so that the comparison is at the same alpha and budget. `ALPHA_CHOSEN`
guards against runs at an alpha not yet chosen (a test checks that the manifests declare ALPHA).
"""

from __future__ import annotations

from pathlib import Path

ALPHA = 0.003           # read off ppo's CoinEnd curve (the docstring says how)
ALPHA_CHOSEN = True     # False: ALPHA is a placeholder and no run is made at it

WEIGHTS = Path(__file__).resolve().parent / "weights"


def refuse_placeholder(alpha: float, name: str) -> None:
    """No run at the placeholder alpha: its weights would look like the method's."""
    if alpha == ALPHA and not ALPHA_CHOSEN:
        raise ValueError(f"{name}: the declared alpha ({ALPHA}) is a placeholder, not yet chosen (issue #21); "
                         f"choose it in baselines/ppo_dr/train.py (ALPHA, ALPHA_CHOSEN) and submission.yaml first")


def train(task: str, seed: int, alpha: float = ALPHA, steps: int | None = None, out: Path | None = None,
          progress: bool = True) -> Path:
    """ppo's `train` at the declared ALPHA (any other alpha is plain ppo: `proxybench train ppo --alpha A`)."""
    from baselines.ppo.ppo import train as ppo_train

    if alpha != ALPHA:
        raise ValueError(f"ppo-dr trains at its declared alpha {ALPHA}, got {alpha}; "
                         f"for another alpha train ppo: proxybench train ppo --alpha {alpha}")
    refuse_placeholder(alpha, "ppo-dr")
    return ppo_train(task, seed, alpha=ALPHA, steps=steps, out=out if out is not None else WEIGHTS, progress=progress)
