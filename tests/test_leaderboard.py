"""The leaderboard page: a golden file on synthetic results, ranking, stale and failed marks."""

import json
import re
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


def raw(c, h, runs):
    # random's statistics are 0, so CG = c and H = h exactly: the figures below are c and h.
    return {"c": c, "h": h, "c_random": 0.0, "h_random": 0.0, "episodes": 100, "runs": runs}


def task_result(cg, h, version=1, runs=3):
    og = min(h / cg, 1.0)
    return {"version": version, "status": "ok", "train_score": fig(0.9, 0.85, 0.95),
            "capability_generalization": fig(cg, cg - 0.05, cg + 0.05), "objective_generalization": fig(round(og, 4)),
            "heldout_score": fig(h), "misgeneralization": fig(round(cg - min(h, cg), 4)),
            "quadrant": "robust" if og >= 0.5 else "misgeneralized",
            "splits": {"train": raw(0.9, 0.9, runs), "heldout": raw(cg, h, runs)}}


def suite(blocks):
    """The suite block of task blocks made by task_result (CG >= 0.5 on each), by hand."""
    ok = [b for b in blocks.values() if b["status"] == "ok"]
    cg = [b["splits"]["heldout"]["c"] for b in ok]
    h = [b["splits"]["heldout"]["h"] for b in ok]
    og = [min(y / x, 1.0) for x, y in zip(cg, h)]
    mean = lambda xs: round(sum(xs) / len(xs), 4)  # noqa: E731
    quads = [b["quadrant"] for b in ok]
    return {"train_score": fig(0.9), "capability_generalization": fig(mean(cg), 0.8, 0.9),
            "objective_generalization": {**fig(mean(og)), "tasks": len(ok)},
            "heldout_score": fig(mean(h), mean(h) - 0.1, mean(h) + 0.1),
            "misgeneralization": fig(mean([x - min(x, y) for x, y in zip(cg, h)])), "tasks": len(ok),
            "quadrants": {q: quads.count(q) for q in ("robust", "misgeneralized", "incapable")},
            "failed_tasks": len(blocks) - len(ok)}


def results(name, alpha_h, track="standard", beta_version=2, seeds=(0, 1, 2), method=None):
    tasks = {"Alpha": {**task_result(0.9, alpha_h, runs=len(seeds)),
                       "pursues": [{"goal": "a red object", "score": 0.93},
                                   {"goal": "Alpha true (true)", "score": 0.18},
                                   {"goal": "the top edge", "score": 0.05}]},
             "Beta": task_result(0.8, 0.8, version=beta_version, runs=len(seeds))}
    return {"submission": {"name": name, "track": track, "training_seeds": list(seeds),
                           **({"method": method} if method else {})},
            "tasks": tasks, "suite": suite(tasks)}


# Two entries that CI "rescores" (listed in baselines/reproduced.yaml) and one that nobody
# stands behind, with the best figures of the three.
ENTRIES = (("baselines", "ppo", 0.18, 2), ("submissions", "my-agent", 0.6, 1), ("submissions", "bold-claims", 0.8, 2))
REPRODUCED = "baselines/ppo: [Alpha, Beta]\nsubmissions/my-agent: [Alpha]\n"


def write(folder, data):
    from benchmark.submission.manifest import content_hash

    data["submission"]["content_hash"] = content_hash(folder)
    (folder / "results.json").write_text(json.dumps(data))


def make_tree(root):
    for sub, name, alpha_h, version in ENTRIES:
        folder = root / sub / name
        folder.mkdir(parents=True)
        track, method = ("open", "level replay at alpha 0.1") if name == "my-agent" else ("standard", None)
        write(folder, results(name, alpha_h, track=track, beta_version=version, method=method))
    (root / "baselines" / "reproduced.yaml").write_text(REPRODUCED)
    return root


def references():
    return {"random": results("random", 0.0, track="reference", seeds=()),
            "true-oracle": results("true-oracle", 0.9, track="reference", seeds=()),
            "proxy-oracle": results("proxy-oracle", 0.0, track="reference", seeds=())}


def test_golden_page(tmp_path):
    page = render(collect(make_tree(tmp_path)), references(), TASKS)
    if os.environ.get("PROXYBENCH_UPDATE_GOLDEN"):
        GOLDEN.write_text(page)
    assert page == GOLDEN.read_text()


def test_ranking_and_marks(tmp_path):
    page = render(collect(make_tree(tmp_path)), references(), TASKS)
    ranked, rest = page.split("### Self-reported (not ranked)")
    standard, open_ = ranked.split("### Standard track")[1].split("### Open track")   # tracks ranked apart
    assert "| 1   | ppo " in standard and "my-agent" not in standard
    assert re.search(r"\| 1 +\| my-agent +\| level replay at alpha 0.1 +\| reproduced", open_)  # method by the name
    assert "| reproduced |" in ranked and "CI rescores every task" in ranked and "CI rescores Alpha" in ranked
    assert "stale: Beta" in ranked                                          # my-agent scored Beta v1
    assert "stale (version 1 -> 2)" in page
    # The best figures of all, but nobody stands behind them: apart, unranked, marked in every table.
    assert "bold-claims" not in ranked
    own_table = rest.split("### Reference policies")[0]
    assert re.search(r"\|     \| bold-claims \| +\| self-reported \|", own_table)
    assert "| bold-claims (self-reported) |" in rest.split("### Alpha")[1]


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
    data["suite"] = suite(data["tasks"])
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
    write(folder, results("ppo", 0.1))
    with pytest.raises(LeaderboardError, match="two results files"):
        collect(tmp_path)


def test_results_load_into_one_dataframe(tmp_path):
    from benchmark.evaluation.results import load_results

    df = load_results(make_tree(tmp_path))
    assert set(df["agent"]) == {"ppo", "my-agent", "bold-claims"}
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
    assert lines[0].startswith("agent,track,runs,task") and len(lines) == 1 + 9
    assert main(["results", str(tmp_path / "nowhere")]) == 1


def test_figures_are_drawn(tmp_path):
    from benchmark.reporting.leaderboard import FIGURES, plot

    make_tree(tmp_path)
    plot(collect(tmp_path), references(), tmp_path, TASKS)
    for name in FIGURES:
        assert (tmp_path / name).read_bytes()[:4] == b"\x89PNG"
