"""Paired comparisons (benchmark/evaluation/paired.py, benchmark/reporting/comparison.py)."""

import numpy as np
import pytest

from benchmark.evaluation.paired import paired_difference
from benchmark.evaluation.scoring import SplitScore

NAMES = ("heldout_score", "capability_generalization", "objective_generalization")


def split(values: np.ndarray, runs=3, episodes=100) -> SplitScore:
    return SplitScore(point={n: float(values.mean()) for n in NAMES}, replicates={n: values for n in NAMES},
                      raw={"runs": runs, "episodes": episodes})


def write_comparison(root, task: str, alpha: float, figures: dict, spread: float) -> None:
    """docs/comparison.csv with ppo-plr against ppo-dr on one task; figures: {figure: (method,
    against, difference, difference_low, difference_high)}, each agent's interval +-spread."""
    import pandas as pd

    (root / "docs").mkdir()
    row = dict(task=task, method="ppo-plr", against="ppo-dr", alpha=alpha, seeds=3, fingerprint="v1:x")
    rows = [{**row, "figure": k, "method_figure": m, "method_figure_low": m - spread, "method_figure_high": m + spread,
             "against_figure": a, "against_figure_low": a - spread, "against_figure_high": a + spread,
             "difference": d, "difference_low": lo, "difference_high": hi} for k, (m, a, d, lo, hi) in figures.items()]
    pd.DataFrame(rows).to_csv(root / "docs" / "comparison.csv", index=False)


def test_shared_variation_cancels_in_the_paired_interval():
    rng = np.random.default_rng(0)
    shared = rng.normal(0.5, 0.1, 2000)                 # what the levels and seeds do to both
    b = split(shared)
    a = split(shared + 0.05 + rng.normal(0, 0.005, 2000))
    fig = paired_difference({"train": a, "heldout": a}, {"train": b, "heldout": b})["OG"]
    assert fig["a"]["ci_low"] < fig["b"]["ci_high"]     # the agents' own intervals overlap ...
    assert 0.03 < fig["difference"]["ci_low"] < fig["difference"]["ci_high"] < 0.07   # ... A is better all the same


def test_agents_scored_on_other_levels_are_not_paired():
    a, b = split(np.zeros(10)), split(np.zeros(10), episodes=50)
    with pytest.raises(ValueError, match="same training seeds and levels"):
        paired_difference({"train": a, "heldout": a}, {"train": b, "heldout": b})


def test_an_agent_against_itself_differs_by_exactly_nothing():
    pytest.importorskip("torch")
    from benchmark.reporting.comparison import compare

    table = compare(["SpuriousCue"], pairs=(("ppo", "ppo"),))
    assert sorted(table["figure"]) == ["CG", "H", "OG", "T"]
    assert (table["difference"] == 0).all() and (table["difference_low"] == 0).all()
    assert (table["difference_high"] == 0).all()
    og = table[table.figure == "OG"].iloc[0]
    assert og["method"] == "ppo" and og["method_figure_high"] > og["method_figure_low"]          # its own interval is not a point


def test_the_analysis_reads_the_paired_interval_not_the_overlap(tmp_path):
    from benchmark.reporting.analysis import comparison_section

    figures = {"T": (0.9, 0.9, 0.0, -0.01, 0.01), "CG": (0.6, 0.5, 0.1, -0.05, 0.2),
               "OG": (0.40, 0.30, 0.10, 0.02, 0.18), "H": (0.2, 0.1, 0.1, 0.0, 0.2)}
    write_comparison(tmp_path, "CoinEnd", 0.01, figures, spread=0.2)
    text = "\n".join(comparison_section(tmp_path))
    assert "ppo-plr generalizes the objective better (OG +0.10)" in text
    assert "[0.02, 0.18]" in text


def test_the_analysis_says_when_the_baseline_left_nothing_to_fix(tmp_path):
    from benchmark.reporting.analysis import comparison_section

    figures = {"T": (1.0, 1.0, 0.0, 0.0, 0.0), "CG": (1.0, 1.0, 0.0, 0.0, 0.0),
               "OG": (0.97, 0.99, -0.02, -0.05, 0.01), "H": (0.97, 0.99, -0.02, -0.05, 0.01)}
    write_comparison(tmp_path, "SpuriousCue", 0.003, figures, spread=0.02)
    text = "\n".join(comparison_section(tmp_path))
    assert "ppo-dr already generalizes the objective at this alpha (OG 0.99)" in text
    assert "which this comparison does not show" not in text     # no mitigation was there to be shown
