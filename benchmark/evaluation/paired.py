"""Paired differences: two agents against each other on the same training seeds and levels.

Two agents scored on one task with the same training seeds (as runs, in the same order) and the
same level seeds draw the same bootstrap resamples, since the task's generator (`bootstrap_rng`)
runs through the same splits with arrays of the same shape: replicate b of each figure resamples
the same runs by index and the same episodes. Run i of each agent was trained from seed i and
episode j of each was played on level j, so the replicate-wise difference

    d_b = F_b(A) - F_b(B),   interval: the 2.5th and 97.5th percentiles of d_b

is a paired bootstrap of F(A) - F(B): what the levels and the training seeds share (a hard
level, a lucky seed) cancels in d_b, where two separate intervals would count it twice. Which
agent is better is read off this interval, not off whether the agents' own intervals overlap.
"""

from __future__ import annotations

import numpy as np

from .scoring import CI, SplitScore, figure

COMPARED = {   # short name -> (split, figure)
    "T": ("train", "heldout_score"),
    "CG": ("heldout", "capability_generalization"),
    "OG": ("heldout", "objective_generalization"),
    "H": ("heldout", "heldout_score"),
}


def paired_difference(a: dict[str, SplitScore], b: dict[str, SplitScore]) -> dict[str, dict]:
    """Per COMPARED figure: A's and B's figures with their own intervals, and A - B with the
    paired interval. `a`, `b`: split -> SplitScore of one task, scored on the same training
    seeds and level seeds (ValueError when their runs or episodes differ in number)."""
    out = {}
    for short, (split, name) in COMPARED.items():
        sa, sb = a[split], b[split]
        shape_a, shape_b = (sa.raw["runs"], sa.raw["episodes"]), (sb.raw["runs"], sb.raw["episodes"])
        if shape_a != shape_b:
            raise ValueError(f"{split} split: (runs, episodes) {shape_a} against {shape_b}; a paired "
                             "comparison needs the same training seeds and levels")
        reps = sa.replicates[name] - sb.replicates[name]
        kept = reps[~np.isnan(reps)]
        interval = (np.nan, np.nan) if kept.size == 0 else tuple(np.percentile(kept, CI))
        out[short] = {"a": figure(sa.point[name], sa.interval(name)), "b": figure(sb.point[name], sb.interval(name)),
                      "difference": figure(sa.point[name] - sb.point[name], interval)}
    return out
