"""`proxybench train ppo --task T --seed S [--steps N] [--out DIR]`: the whole algorithm is in
ppo.py, read top to bottom."""

from baselines.ppo.ppo import DEFAULT_STEPS, STEPS, train  # noqa: F401  (what `benchmark.training` reads)
