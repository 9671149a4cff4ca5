"""The objective-planner's cell encodings (baselines/objective_planner, `features`) and the
re-encoding experiment (tools/planner_features.py) at a tiny budget: what each encoding can tell
apart, that a weights file names its encoding, and that the committed weights load as before."""

import functools
import importlib.util
from pathlib import Path

import numpy as np
import pytest

from baselines.objective_planner import agent, train
from benchmark import grid as G
from benchmark.evaluation.scorer import score_agent

TOOL = Path(__file__).resolve().parents[1] / "tools" / "planner_features.py"


def active(features: str, *cells) -> list[set[int]]:
    """The active feature columns of each cell, all at the same position."""
    codes = np.stack(cells)
    rows, cols = np.full(len(cells), 3), np.full(len(cells), 4)
    return [set(row) for row in agent.feature_index(codes, rows, cols, features).tolist()]


def test_the_encodings_differ_in_what_they_can_tell_apart():
    red, blue = G.cell("ball", "red"), G.cell("ball", "blue")
    red_door = G.cell("door", "red")
    # no-colour: a red and a blue ball are one and the same feature vector.
    assert active("no-colour", red, blue)[0] == active("no-colour", red, blue)[1]
    for features in ("separate", "joint"):
        a, b = active(features, red, blue)
        assert a != b, features
    # separate is additive over shared columns: a red ball and a red door share "colour red" (and
    # "state none"); joint gives each combination its own column, so they share only the bias and
    # the position.
    ball, door = active("separate", red, red_door)
    assert len(ball & door) == 4 and 1 + agent.N_TYPES + G.COLOR_TO_IDX["red"] in ball & door
    ball, door = active("joint", red, red_door)
    assert len(ball & door) == 2
    for features in agent.FEATURES:
        index = agent.feature_index(np.array([[31, 15, 7], [255, 255, 255]], np.uint8), np.array([0, 12]),
                                    np.array([0, 12]), features)
        assert index.max() < agent.n_features(features) and index.shape[1] == len(agent.FEATURES[features]) + 2
    # The default keeps the committed layout: bias, type, colour, state, position (226 columns).
    assert agent.DEFAULT_FEATURES == "separate" and agent.N_FEATURES == agent.n_features("separate") == 226
    with pytest.raises(ValueError, match="unknown features"):
        agent.feature_index(red, 0, 0, "colour-only")


def test_committed_weights_load_as_separate_and_act():
    planner = agent.make_agent("RedDoor", 0)
    assert planner.features == "separate" and len(planner.w) == agent.N_FEATURES
    with np.load(agent.WEIGHTS / "RedDoor-seed0.npz") as data:
        assert data.files == ["weights"]    # committed files name no encoding: they are "separate"
    obs = np.zeros((2, G.SIZE, G.SIZE, 3), np.uint8)
    obs[:, 5, 5] = G.AGENT_CODE
    actions = planner.act(obs, np.ones(2, bool))
    assert actions.shape == (2,) and ((0 <= actions) & (actions <= 4)).all()


def test_a_weights_file_names_its_encoding(tmp_path):
    out = train.train("CoinEnd", 0, steps=512, out=tmp_path, progress=False, features="no-colour")
    with np.load(out) as data:
        assert str(data["features"]) == "no-colour" and len(data["weights"]) == agent.n_features("no-colour")
    assert agent.make_agent("CoinEnd", 0, weights=tmp_path).features == "no-colour"
    with pytest.raises(ValueError, match="features 'separate' have 226"):
        agent.PlannerAgent(np.zeros(agent.n_features("no-colour")))
    with pytest.raises(ValueError, match="unknown features"):
        agent.PlannerAgent(np.zeros(agent.N_FEATURES), "colour-only")
    with pytest.raises(ValueError, match="unknown features"):
        train.train("CoinEnd", 0, steps=256, out=tmp_path, progress=False, features="colour-only")


def test_the_tool_prints_a_row_per_task_and_encoding(monkeypatch, capsys):
    spec = importlib.util.spec_from_file_location("tools_planner_features", TOOL)
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    monkeypatch.setattr(tool, "score_agent", functools.partial(score_agent, episodes=16))
    assert tool.main(["--tasks", "RedDoor", "--seeds", "0", "--encodings", "separate,no-colour",
                      "--steps", "2560"]) == 0
    out = capsys.readouterr()
    rows = [line for line in out.out.splitlines() if line.startswith("| RedDoor |")]
    assert [r.split(" | ")[1] for r in rows] == ["separate", "no-colour"]
    assert all(r.count("[") == 3 for r in rows)    # T, CG and OG with their intervals: it learned
    assert "[2/2] trained RedDoor no-colour seed 0" in out.err
    with pytest.raises(SystemExit):
        tool.main(["--encodings", "colour-only"])
