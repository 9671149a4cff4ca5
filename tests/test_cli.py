"""The CLI end to end on a tiny episode count, and its bad-input behaviour."""

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from benchmark.cli import main

ROOT = Path(__file__).resolve().parents[1]


def copy_random(tmp_path, name="random"):
    dest = tmp_path / "baselines" / name
    shutil.copytree(ROOT / "baselines" / "random", dest, ignore=shutil.ignore_patterns("results.json", "__pycache__"))
    return dest


def agent_folder(tmp_path, body, name="bad"):
    folder = tmp_path / "submissions" / name
    folder.mkdir(parents=True)
    (folder / "submission.yaml").write_text(
        (ROOT / "baselines" / "random" / "submission.yaml").read_text().replace("name: random", f"name: {name}"))
    (folder / "agent.py").write_text("import numpy as np\n" + body)
    return folder


def test_tasks_lists_the_suite(capsys):
    assert main(["tasks"]) == 0
    out = capsys.readouterr().out
    assert "CheeseCorner" in out and "reach the top-right corner" in out


def test_score_then_leaderboard_end_to_end(tmp_path, capsys):
    folder = copy_random(tmp_path)
    assert main(["validate", str(folder)]) == 0
    assert main(["score", str(folder), "--tasks", "RedDoor,cheesecorner", "--episodes", "6", "--quiet"]) == 0
    results = json.loads((folder / "results.json").read_text())
    assert set(results["tasks"]) == {"RedDoor", "CheeseCorner"}
    for res in results["tasks"].values():
        for key in ("capability_generalization", "objective_generalization", "heldout_score",
                    "misgeneralization", "train_score"):
            assert set(res[key]) == {"value", "ci_low", "ci_high"}
        assert res["quadrant"] in ("robust", "misgeneralized", "incapable")
    assert results["submission"]["content_hash"] and results["seed_set"]["hash"]
    assert main(["leaderboard", "--root", str(tmp_path)]) == 0
    page = (tmp_path / "LEADERBOARD.md").read_text()
    # Scored here, neither signed nor rescored in CI: listed apart, unranked.
    assert "| 1   |" not in page and "not scored" in page
    assert re.search(r"\| +\| random +\|[^|]*\| self-reported +\|", page.split("### Self-reported (not ranked)")[1])
    assert main(["leaderboard", "--root", str(tmp_path), "--check"]) == 0
    (tmp_path / "LEADERBOARD.md").write_text(page + "edited by hand\n")
    assert main(["leaderboard", "--root", str(tmp_path), "--check"]) == 1
    # The HTML page is checked as text too (its figures' data are in it).
    (tmp_path / "LEADERBOARD.md").write_text(page)
    html = tmp_path / "docs" / "leaderboard" / "index.html"
    assert "<td>random (self-reported)</td>" in html.read_text()
    html.write_text(html.read_text().replace("<td>random (self-reported)</td>", "<td>someone else</td>"))
    capsys.readouterr()
    assert main(["leaderboard", "--root", str(tmp_path), "--check"]) == 1
    assert "index.html is stale" in capsys.readouterr().err


def test_rescoring_is_identical_apart_from_the_timestamp(tmp_path):
    folder = copy_random(tmp_path)
    args = ["score", str(folder), "--tasks", "CoinEnd", "--episodes", "5", "--quiet"]
    assert main(args) == 0
    first = json.loads((folder / "results.json").read_text())
    assert main(args) == 0
    second = json.loads((folder / "results.json").read_text())
    first.pop("scored_at"), second.pop("scored_at")
    assert first == second


@pytest.mark.parametrize("body,message", [
    ("def make_agent(t, s):\n    class A:\n        def act(self, obs, first):\n            return np.zeros(len(obs))\n    return A()\n",
     "dtype float64"),
    ("def make_agent(t, s):\n    class A:\n        def act(self, obs, first):\n            return np.zeros((len(obs), 2), int)\n    return A()\n",
     "shape"),
    ("def make_agent(t, s):\n    class A:\n        def act(self, obs, first):\n            return np.full(len(obs), 99)\n    return A()\n",
     "action 99 out of range"),
    ("def make_agent(t, s):\n    class A:\n        n = 0\n        def act(self, obs, first):\n            A.n += 1\n            if A.n == 3:\n                raise RuntimeError('third batch')\n            return np.zeros(len(obs), int)\n    return A()\n",
     "step 3: act() raised RuntimeError: third batch"),
])
def test_bad_agents_fail_the_task_with_one_line(tmp_path, capsys, body, message):
    folder = agent_folder(tmp_path, body)
    (folder / "results.json").write_text('{"previous": true}')
    assert main(["score", str(folder), "--tasks", "RedDoor", "--episodes", "4", "--quiet"]) == 1
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and message in err and "bad" in err and "RedDoor" in err
    results = json.loads((folder / "results.json").read_text())
    task = results["tasks"]["RedDoor"]
    assert task["status"] == "failed" and message in task["reason"] and "\n" not in task["reason"]
    assert task["reason"].startswith("train split, run 0, step ")
    assert results["suite"]["failed_tasks"] == 1 and results["suite"]["tasks"] == 0
    assert main(["leaderboard", "--root", str(tmp_path)]) == 0   # shown as failed on the leaderboard
    assert "failed: RedDoor" in (tmp_path / "LEADERBOARD.md").read_text()


def test_validate_reports_manifest_errors(tmp_path, capsys):
    folder = copy_random(tmp_path)
    (folder / "submission.yaml").write_text((folder / "submission.yaml").read_text().replace("track: standard", "track: x"))
    assert main(["validate", str(folder)]) == 1
    assert "field 'track'" in capsys.readouterr().err


def test_unknown_task_is_a_clear_error(tmp_path, capsys):
    assert main(["score", str(copy_random(tmp_path)), "--tasks", "NoSuchTask"]) == 1
    assert "unknown task 'NoSuchTask'" in capsys.readouterr().err


def test_render_writes_a_png(tmp_path):
    out = tmp_path / "level.png"
    assert main(["render", "RedDoor", "--split", "heldout", "--seed", "3", "--out", str(out)]) == 0
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_console_script_runs():
    proc = subprocess.run([sys.executable, "-m", "benchmark.cli", "tasks"], capture_output=True, text=True, cwd=ROOT)
    assert proc.returncode == 0 and "RedDoor" in proc.stdout


def test_score_a_folder_of_submissions(tmp_path, capsys):
    copy_random(tmp_path, "random")
    copy_random(tmp_path, "second")
    (tmp_path / "baselines" / "second" / "submission.yaml").write_text(
        (tmp_path / "baselines" / "second" / "submission.yaml").read_text().replace("name: random", "name: second"))
    (tmp_path / "baselines" / "nets.py").write_text("# not a submission\n")
    assert main(["score", str(tmp_path / "baselines"), "--tasks", "SpuriousCue", "--episodes", "3",
                 "--quiet", "--in-process"]) == 0
    assert (tmp_path / "baselines" / "random" / "results.json").exists()
    assert (tmp_path / "baselines" / "second" / "results.json").exists()


def test_speedtest_smoke(capsys):
    """A short speedtest in both formats: every cell measured, in every round (not a timing
    assertion: only that the numbers exist and are positive)."""
    args = ["speedtest", "--tasks", "RedDoor,MonsterShields", "--batch", "1,8", "--seconds", "0.02", "--repeats", "2"]
    assert main(args + ["--format", "json", "--memory"]) == 0
    report = json.loads(capsys.readouterr().out)
    cells = {(r["task"], r["batch"]) for r in report["records"] if r["library"] == "proxybench"}
    assert cells == {(t, b) for t in ("RedDoor", "MonsterShields") for b in (1, 8)}
    assert all(r["steps_per_second"] > 0 for r in report["records"])
    assert all(len(r["rounds"]) == 2 and min(r["rounds"]) <= r["steps_per_second"] <= max(r["rounds"])
               for r in report["records"])
    assert set(report["memory_bytes_batch_1024"]) == {"RedDoor", "MonsterShields"}
    assert main(args) == 0
    table = capsys.readouterr().out
    assert "median of 2 rounds" in table and "| RedDoor" in table and "B=8" in table
    assert "spread of a cell's rounds (fastest / slowest): median" in table
    assert main(args + ["--prefetch-levels", "--format", "json"]) == 0   # batches above 1 twice
    records = json.loads(capsys.readouterr().out)
    assert {(r["task"], r["batch"], r["prefetch_levels"]) for r in records} == {
        (t, b, p) for t in ("RedDoor", "MonsterShields") for b, p in ((1, False), (8, False), (8, True))}
    assert main(args + ["--prefetch-levels"]) == 0
    assert "B=8 prefetch" in capsys.readouterr().out


@pytest.mark.parametrize("flags, message", [
    (["--tasks", "Nope"], "unknown task 'Nope'"),
    (["--batch", "abc"], "--batch abc: give comma-separated whole numbers"),
    (["--batch", "0,8"], "--batch 0,8: batch sizes must be at least 1"),
    (["--seconds", "0"], "--seconds must be positive"),
    (["--repeats", "0"], "--repeats at least 1"),
])
def test_speedtest_refuses_bad_input_in_one_line(capsys, flags, message):
    assert main(["speedtest", "--tasks", "RedDoor", "--batch", "2", *flags]) == 1
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1 and "Traceback" not in err


def test_render_refuses_a_negative_seed(capsys, tmp_path):
    assert main(["render", "RedDoor", "--seed", "-3", "--out", str(tmp_path / "x.png")]) == 1
    assert "--seed -3: a level seed is a whole number" in capsys.readouterr().err
    assert not (tmp_path / "x.png").exists()


def test_train_runs_in_parallel_and_skips_finished_runs(tmp_path, capsys):
    out = tmp_path / "weights"
    out.mkdir()
    (out / "SpuriousCue-seed1.csv").write_text("update\n")     # a learning curve alone: unfinished
    args = ["train", "tabular-q", "--task", "SpuriousCue", "--seed", "0,1", "--steps", "2048",
            "--out", str(out), "--jobs", "2", "--skip-done"]
    assert main(args) == 0
    err = capsys.readouterr().err
    assert "0 of 2 runs already trained" in err and "[2/2]" in err
    assert {p.name for p in out.glob("*.npz")} == {"SpuriousCue-seed0.npz", "SpuriousCue-seed1.npz"}
    assert main(args) == 0
    assert "2 of 2 runs already trained" in capsys.readouterr().err
    assert main(["train", "tabular-q", "--task", "SpuriousCue", "--jobs", "0"]) == 1

    from benchmark.training import TrainingError, run_jobs

    jobs = [("objective-planner", "NoSuchTask", 0.0, 0, str(out), 2048),
            ("objective-planner", "SpuriousCue", 0.0, 3, str(out), 2048)]
    with pytest.raises(TrainingError, match="1 of 2 runs failed"):
        run_jobs(jobs, workers=2)
    err = capsys.readouterr().err                # a failed run is named when it fails; the rest go on
    assert "FAILED objective-planner NoSuchTask seed 0" in err
    assert (out / "SpuriousCue-seed3.npz").exists()
    assert main(["train", "no-such", "--task", "SpuriousCue", "--skip-done"]) == 1
    assert "unknown baseline 'no-such'" in capsys.readouterr().err
