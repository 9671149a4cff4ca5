"""The leaderboard page: a golden file on synthetic results, ranking, stale and failed marks."""

import json
import os
from pathlib import Path

import pytest

from benchmark.reporting.leaderboard import LeaderboardError, collect, render

GOLDEN = Path(__file__).parent / "golden" / "leaderboard.md"


class FakeTask:
    def __init__(self, name, version=1):
        self.name, self.version, self.tags = name, version, ("feature",)
        self.true_objective, self.proxy_objective = f"{name} true", f"{name} proxy"


TASKS = {"Alpha": FakeTask("Alpha"), "Beta": FakeTask("Beta", version=2)}


def fig(v, lo=None, hi=None):
    return {"value": v, "ci_low": lo if lo is not None else v, "ci_high": hi if hi is not None else v}


def task_result(cg, og, h, version=1, quadrant="robust"):
    return {"version": version, "status": "ok", "train_score": fig(0.9, 0.85, 0.95),
            "capability_generalization": fig(cg, cg - 0.05, cg + 0.05), "objective_generalization": fig(og),
            "heldout_score": fig(h), "misgeneralization": fig(round(cg - min(h, cg), 4)), "quadrant": quadrant}


def results(name, h, track="standard", beta_version=2, seeds=(0, 1, 2)):
    return {
        "submission": {"name": name, "track": track, "training_seeds": list(seeds)},
        "tasks": {"Alpha": {**task_result(0.9, 0.2, 0.18, quadrant="misgeneralized"),
                            "pursues": [{"goal": "a red object", "score": 0.93},
                                        {"goal": "Alpha true (true)", "score": 0.18},
                                        {"goal": "the top edge", "score": 0.05}]},
                  "Beta": task_result(0.8, 1.0, 0.8, version=beta_version)},
        "suite": {"train_score": fig(0.9), "capability_generalization": fig(0.85, 0.8, 0.9),
                  "objective_generalization": {**fig(0.6), "tasks": 2}, "heldout_score": fig(h, h - 0.1, h + 0.1),
                  "misgeneralization": fig(0.36), "tasks": 2,
                  "quadrants": {"robust": 1, "misgeneralized": 1, "incapable": 0}},
    }


def make_tree(root):
    for sub, name, h, version in (("baselines", "ppo", 0.49, 2), ("submissions", "my-agent", 0.7, 1)):
        folder = root / sub / name
        folder.mkdir(parents=True)
        (folder / "results.json").write_text(json.dumps(results(name, h, beta_version=version)))
    return root


def references():
    return {"random": results("random", 0.0, track="reference", seeds=()),
            "true-oracle": results("true-oracle", 1.0, track="reference", seeds=()),
            "proxy-oracle": results("proxy-oracle", 0.0, track="reference", seeds=())}


def test_golden_page(tmp_path):
    page = render(collect(make_tree(tmp_path)), references(), TASKS)
    if os.environ.get("PROXYBENCH_UPDATE_GOLDEN"):
        GOLDEN.write_text(page)
    assert page == GOLDEN.read_text()


def test_ranking_and_marks(tmp_path):
    page = render(collect(make_tree(tmp_path)), references(), TASKS)
    suite = page.split("### Reference policies")[0]
    assert suite.index("my-agent") < suite.index("ppo")                    # ranked by H
    assert "stale: Beta" in suite                                           # my-agent scored Beta v1
    assert "stale (version 1 -> 2)" in page


def test_per_task_rows_name_what_the_agent_pursues(tmp_path):
    page = render(collect(make_tree(tmp_path)), references(), TASKS)
    alpha = page.split("### Alpha")[1].split("### Beta")[0]
    assert "pursues (held-out)" in alpha
    row = next(line for line in alpha.splitlines() if line.startswith("| my-agent"))
    assert "a red object 0.93 (then Alpha true (true) 0.18, the top edge 0.05)" in row


def test_failed_tasks_are_shown_as_failed(tmp_path):
    make_tree(tmp_path)
    path = tmp_path / "submissions" / "my-agent" / "results.json"
    data = json.loads(path.read_text())
    data["tasks"]["Alpha"] = {"version": 1, "status": "failed", "reason": "step 3: act() raised"}
    path.write_text(json.dumps(data))
    page = render(collect(tmp_path), references(), TASKS)
    assert "failed: Alpha" in page and "step 3: act() raised" in page


def test_unparseable_results_are_reported_by_name(tmp_path):
    make_tree(tmp_path)
    (tmp_path / "submissions" / "my-agent" / "results.json").write_text("{not json")
    with pytest.raises(LeaderboardError, match="submissions/my-agent/results.json"):
        collect(tmp_path)


def test_duplicate_names_are_rejected(tmp_path):
    make_tree(tmp_path)
    folder = tmp_path / "submissions" / "copy"
    folder.mkdir()
    (folder / "results.json").write_text(json.dumps(results("ppo", 0.1)))
    with pytest.raises(LeaderboardError, match="two results files"):
        collect(tmp_path)


def test_results_load_into_one_dataframe(tmp_path):
    from benchmark.evaluation.results import load_results

    df = load_results(make_tree(tmp_path))
    assert set(df["agent"]) == {"ppo", "my-agent"}
    assert set(df["task"]) == {"Alpha", "Beta", "suite"}
    row = df[(df.agent == "ppo") & (df.task == "Alpha")].iloc[0]
    assert row["capability_generalization"] == 0.9 and row["capability_generalization_low"] == pytest.approx(0.85)
    assert row["quadrant"] == "misgeneralized"
    one = load_results(tmp_path / "baselines" / "ppo")
    assert set(one["agent"]) == {"ppo"}


def test_results_command_formats(tmp_path, capsys):
    from benchmark.cli import main

    make_tree(tmp_path)
    assert main(["results", str(tmp_path), "--format", "csv"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines[0].startswith("agent,track,runs,task") and len(lines) == 1 + 6
    assert main(["results", str(tmp_path / "nowhere")]) == 1


def test_figures_are_drawn(tmp_path):
    from benchmark.reporting.leaderboard import BY_TAG, SCATTER, plot

    make_tree(tmp_path)
    plot(collect(tmp_path), references(), tmp_path, TASKS)
    for name in (SCATTER, BY_TAG):
        assert (tmp_path / name).read_bytes()[:4] == b"\x89PNG"
