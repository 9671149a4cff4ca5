"""A results.json against itself: every figure derivable from its raw statistics is recomputed,
and each kind of mismatch is named by task and field."""

import copy
import json
from pathlib import Path

import numpy as np
import pytest

from benchmark.evaluation import score_agent
from benchmark.evaluation.consistency import inconsistencies

ROOT = Path(__file__).resolve().parents[1]


class Mixed:
    """Up on some levels, right on the others: figures off the floor on some tasks."""

    def __init__(self, seed):
        self.rng = np.random.default_rng(seed)

    def act(self, obs, first):
        return self.rng.choice([0, 1], size=len(obs))


def make_agent(task, seed):
    if task == "SpuriousCue":
        raise RuntimeError("no agent for this task")
    return Mixed(seed)


@pytest.fixture(scope="module")
def scored():
    """Results as the scorer writes them: two runs, and a task that failed."""
    return score_agent(make_agent, ["CoinEnd", "CheeseCorner", "SpuriousCue"], training_seeds=(0, 1),
                       episodes=40, progress=False, name="mixed")


@pytest.fixture
def results(scored):
    return copy.deepcopy(scored)


def test_what_the_scorer_writes_is_consistent(scored):
    assert scored["tasks"]["SpuriousCue"]["status"] == "failed"
    assert scored["suite"]["failed_tasks"] == 1
    assert inconsistencies(scored) == []


def test_every_committed_baseline_is_consistent():
    for path in sorted(ROOT.glob("baselines/*/results.json")):
        assert inconsistencies(json.loads(path.read_text())) == [], path


def test_a_point_value_off_by_its_last_decimal_is_named(results):
    fig = results["tasks"]["CoinEnd"]["heldout_score"]
    stored = fig["value"]
    fig["value"] = round(stored + 0.0001, 4)
    assert inconsistencies(results) == [
        f"CoinEnd: heldout_score: stored {fig['value']!r}, recomputed {stored!r} from splits.heldout "
        "(c, h, c_random, h_random)"]


def test_train_score_is_recomputed_from_the_train_split(results):
    assert results["tasks"]["CheeseCorner"]["train_score"]["value"] < 1
    results["tasks"]["CheeseCorner"]["splits"]["train"].update(c=1.0, h=1.0)   # perfect on train
    task, suite = inconsistencies(results)            # the suite's mean T moves with it
    assert task.startswith("CheeseCorner: train_score: stored ")
    assert task.endswith("recomputed 1.0 from splits.train (c, h, c_random, h_random)")
    assert suite.startswith("suite: train_score.value: stored ")


def test_a_quadrant_that_its_figures_do_not_give_is_named(results):
    block = results["tasks"]["CoinEnd"]
    right = block["quadrant"]
    block["quadrant"] = "robust" if right != "robust" else "incapable"
    assert inconsistencies(results) == [
        f"CoinEnd: quadrant: stored {block['quadrant']!r}, recomputed {right!r} from CG and OG"]


def test_raw_statistics_no_scoring_can_give_are_refused(results):
    heldout = results["tasks"]["CoinEnd"]["splits"]["heldout"]
    heldout["h"] = heldout["c"] + 0.1
    assert "CoinEnd: splits.heldout.h:" in inconsistencies(results)[0]
    assert "exceeds c" in inconsistencies(results)[0]
    heldout["h"], heldout["c"] = 0.5, 1.5
    assert inconsistencies(results)[0] == "CoinEnd: splits.heldout.c: 1.5 is outside [0, 1]"
    del results["tasks"]["CoinEnd"]["splits"]
    assert inconsistencies(results)[0].startswith("CoinEnd: splits.heldout: missing")


def test_runs_must_be_the_training_seeds(results):
    results["submission"]["training_seeds"] = [0, 1, 2]
    assert inconsistencies(results)[0] == ("CoinEnd: splits.heldout.runs: stored 2, but the submission has "
                                           "3 training seeds")


def test_the_suite_is_recomputed_from_the_tasks(results):
    suite = results["suite"]
    suite["quadrants"]["robust"] += 1
    suite["tasks"] = 3
    suite["failed_tasks"] = 0
    problems = inconsistencies(results)
    assert [p.split(": stored")[0] for p in problems] == ["suite: tasks", "suite: quadrants.robust",
                                                          "suite: failed_tasks"]
    assert all(p.endswith("from the task blocks") for p in problems)


def test_a_suite_point_value_is_recomputed(results):
    results["suite"]["capability_generalization"]["value"] = 1.0
    problem, = inconsistencies(results)
    assert problem.startswith("suite: capability_generalization.value: stored 1.0, recomputed ")


def test_task_versions_must_agree_with_the_task_blocks(results):
    results["task_versions"]["CoinEnd"] += 1
    problem, = inconsistencies(results)
    assert problem.startswith("CoinEnd: task_versions: stored ")
