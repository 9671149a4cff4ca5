"""The CLI end to end on a tiny episode count, and its bad-input behaviour."""

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
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
    assert "| 1   | random" in page and "not scored" in page
    assert main(["leaderboard", "--root", str(tmp_path), "--check"]) == 0
    (tmp_path / "LEADERBOARD.md").write_text(page + "edited by hand\n")
    assert main(["leaderboard", "--root", str(tmp_path), "--check"]) == 1


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


def test_speedtest_compares_with_a_plain_numpy_gridworld(capsys):
    args = ["speedtest", "--tasks", "RedDoor,CoinEnd", "--batch", "1,8", "--seconds", "0.02", "--repeats", "1",
            "--compare", "numpy"]
    assert main(args + ["--format", "json"]) == 0
    plain = [r for r in json.loads(capsys.readouterr().out) if r["library"] == "numpy"]
    assert [(r["task"], r["batch"]) for r in plain] == [("plain 13x13 gridworld", 8)]   # batches above 1
    assert plain[0]["steps_per_second"] > 0
    assert main(args) == 0
    assert re.search(r"numpy plain 13x13 gridworld B=8: [\d,]+ steps/s; proxybench at the same batch: "
                     r"[\d.]+x it \((RedDoor|CoinEnd)\) to [\d.]+x", capsys.readouterr().out)
    assert main(["speedtest", "--tasks", "RedDoor", "--batch", "1", "--compare", "numpy"]) == 1
    assert "--compare numpy times batches above 1" in capsys.readouterr().err


def test_plain_gridworld_moves_pays_and_restarts():
    """The numpy reference is a real gridworld: walls block, the goal pays and ends the episode,
    step 64 truncates, and an ended episode restarts."""
    from benchmark import grid as G
    from benchmark.speed import PlainGridworld

    env = PlainGridworld(3)
    obs, _ = env.reset(seed=0)
    assert obs.shape == (3, G.SIZE, G.SIZE, 3) and obs.dtype == np.uint8
    assert (obs[:, [0, -1], :, 0] == G.cell("wall", "grey")[0]).all()      # the walls are whole
    assert (obs[:, :, [0, -1], 0] == G.cell("wall", "grey")[0]).all()
    env.agent[:] = [[1, 1], [5, 5], [5, 5]]
    env.goal[1] = [5, 6]
    env.goal[[0, 2]] = [11, 11]
    obs, reward, terminated, truncated, _ = env.step(np.array([0, 1, 4]))   # up into the wall, right, stay
    assert env.agent[0].tolist() == [1, 1] and env.agent[2].tolist() == [5, 5]
    assert reward.tolist() == [0, 1, 0] and terminated.tolist() == [False, True, False]
    assert (obs[0, 1, 1] == G.cell("agent", "white")).all() and env.t[1] == 0   # level 1 restarted
    for _ in range(PlainGridworld.MAX_STEPS - 1):
        _, _, terminated, truncated, _ = env.step(np.array([4, 4, 4]))
    assert truncated[0] and truncated[2] and not terminated[0]
    assert env.t[0] == 0


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


def test_speedtest_rejects_an_unknown_library(capsys):
    assert main(["speedtest", "--tasks", "RedDoor", "--batch", "2", "--seconds", "0.01", "--repeats", "1",
                 "--compare", "procgen"]) == 1
    assert "--compare procgen: not supported" in capsys.readouterr().err


def test_a_dropped_sigterm_interrupt_is_raised_again():
    """An exception raised in a C callback (numba loading a kernel) is printed and dropped: the
    scorer's SIGTERM handler raises it again until the scorer has stopped."""
    import signal
    import time

    from benchmark.cli import _Terminate

    terminate = _Terminate()
    previous = signal.signal(signal.SIGTERM, terminate)
    try:
        with pytest.raises(KeyboardInterrupt):
            try:
                terminate(signal.SIGTERM, None)
            except KeyboardInterrupt:
                pass                  # dropped, as in a C callback
            time.sleep(5)             # the handler raises again within 0.2 s
        terminate.done()
        terminate(signal.SIGTERM, None)   # once stopped, a late signal is ignored
    finally:
        terminate.done()
        signal.signal(signal.SIGTERM, previous)
