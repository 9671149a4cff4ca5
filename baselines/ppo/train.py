"""`proxybench train ppo --task T --seed S [--steps N] [--out DIR]`: the whole algorithm is in
ppo.py, read top to bottom."""

from baselines.ppo.ppo import train  # noqa: F401  (the trainer `benchmark.training` calls)
