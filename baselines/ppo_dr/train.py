"""`proxybench train ppo-dr --task T --seed S`: domain randomization, i.e. ppo (baselines/ppo/ppo.py:
the same network, hyperparameters and per-task env-step budget, `ppo.STEPS`) trained with a share
ALPHA of held-out-style (disambiguating) levels drawn by the train split's own generator.

ALPHA is NOT YET CHOSEN. Issue #21 chooses it from the alpha-curves of ppo as one alpha at which
plain ppo still misgeneralizes (OG < 0.5), so that there is something to fix; until then ALPHA is a
placeholder and no run is made at it (`ALPHA_CHOSEN`). When it is chosen: set ALPHA and
ALPHA_CHOSEN here, training.alpha and the description in submission.yaml (a test checks that the
manifest's alpha is ALPHA). ppo-plr and ppo-plr-pvl train over the same alpha-mixed generator at
this alpha, so that the comparison is at the same alpha and budget.
"""

from __future__ import annotations

from pathlib import Path

ALPHA = 0.01            # PLACEHOLDER, NOT YET CHOSEN (issue #21: read off ppo's curves)
ALPHA_CHOSEN = False    # True once ALPHA is the chosen one; until then no run is made at ALPHA

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
