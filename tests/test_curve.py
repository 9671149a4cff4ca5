"""Disambiguation curves: a tiny sweep locally, its resumption, and the same sweep on a Ray head
started on loopback by the test itself."""

import importlib.util
import shutil
import socket
import subprocess
import tempfile

import pandas as pd
import pytest

from benchmark.reporting.curve import crossing, crossing_interval, sweep

TINY = dict(steps=4096)


def test_local_sweep_writes_table_and_plot_and_resumes(tmp_path, capsys):
    table = sweep("objective-planner", "CheeseCorner", [0.0, 0.5], [0], work=tmp_path / "work",
                  out=tmp_path / "out", workers=2, **TINY)
    assert list(table["alpha"]) == [0.0, 0.5]
    assert {"capability_generalization_low", "objective_generalization_high"} <= set(table.columns)
    saved = pd.read_csv(tmp_path / "out" / "objective-planner-CheeseCorner.csv")
    assert len(saved) == 2
    one_seed = saved["objective_generalization_by_seed"].astype(float)     # one seed: its own is the pooled
    assert one_seed.round(4).tolist() == saved["objective_generalization"].round(4).tolist()
    shares = saved[["true_only", "proxy_only", "both", "neither"]].sum(axis=1)   # every held-out episode once
    assert ((shares - 1).abs() < 1e-3).all()
    assert (tmp_path / "out" / "objective-planner-CheeseCorner.png").read_bytes()[:4] == b"\x89PNG"
    capsys.readouterr()
    again = sweep("objective-planner", "CheeseCorner", [0.0, 0.5], [0], work=tmp_path / "work",
                  out=tmp_path / "out", workers=2, **TINY)
    assert "2 of 2 runs already trained; training 0" in capsys.readouterr().err
    assert again.equals(table)


def test_training_episodes_are_read_from_the_runs_learning_curves(tmp_path):
    from benchmark.reporting.curve import training_episodes

    pd.DataFrame({"update": [1, 2], "episodes": [300, 500]}).to_csv(tmp_path / "RedDoor-seed0.csv", index=False)
    pd.DataFrame({"update": [1, 2], "episodes": [400, 600]}).to_csv(tmp_path / "RedDoor-seed1.csv", index=False)
    assert training_episodes(tmp_path, "RedDoor", [0, 1]) == 900.0          # mean over seeds of each run's sum
    assert pd.isna(training_episodes(tmp_path, "RedDoor", [0, 2]))          # a run without a curve: unknown
    assert pd.isna(training_episodes(tmp_path, "CoinEnd", [0]))


def test_crossing():
    table = pd.DataFrame({"alpha": [0.0, 0.01, 0.05], "objective_generalization": [0.1, 0.4, 0.7]})
    assert crossing(table) == 0.05
    assert crossing(table, level=0.9) is None


def test_crossing_interval_bootstraps_seeds():
    table = pd.DataFrame({"alpha": [0.0, 0.01, 0.05, 0.1],
                          "objective_generalization_by_seed": ["0.1 0.1 0.1", "0.2 0.9 0.3", "0.6 0.7 0.8",
                                                               "0.2 0.3 0.4"]})
    # alpha 0.01 crosses 0.5 when the 0.9 seed is drawn twice or more (in 7 of 27 resamples);
    # 0.05 always does, so no replicate goes past it
    assert crossing_interval(table) == (0.01, 0.05)
    assert crossing_interval(table, level=0.85) == (0.01, None)      # mostly never
    assert crossing_interval(table.iloc[:1]) == (None, None)
    undefined = table.assign(objective_generalization_by_seed=["nan nan nan"] + list(table.iloc[1:, 1]))
    assert crossing_interval(undefined) == (0.01, 0.05)               # an undefined OG never crosses


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_sweep_on_a_local_ray_head(tmp_path, monkeypatch):
    if importlib.util.find_spec("ray") is None:
        pytest.skip("ray is not installed (the ray extra)")
    ray_cli = shutil.which("ray")
    if ray_cli is None:
        pytest.skip("ray command not on PATH")
    # Every Ray process binds and connects on loopback only (Ray's own switch for that).
    monkeypatch.setenv("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0")
    port = _free_port()
    temp = tempfile.mkdtemp(prefix="ray", dir="/tmp")      # short: Ray puts unix sockets in it
    start = [ray_cli, "start", "--head", "--node-ip-address=127.0.0.1", f"--port={port}", "--num-cpus=2",
             "--include-dashboard=false", "--disable-usage-stats", f"--temp-dir={temp}"]
    # Ray's daemons inherit the output streams: capturing them would wait forever for EOF.
    subprocess.run(start, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=120)
    try:
        table = sweep("objective-planner", "CoinEnd", [0.0, 1.0], [0], work=tmp_path / "work",
                      out=tmp_path / "out", ray_address=f"127.0.0.1:{port}", **TINY)
        assert len(table) == 2 and table["capability_generalization"].notna().all()
        assert (tmp_path / "work" / "alpha-1" / "weights" / "CoinEnd-seed0.npz").exists()
    finally:
        import ray
        ray.shutdown()
        subprocess.run([ray_cli, "stop", "--force"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                       timeout=120)
        shutil.rmtree(temp, ignore_errors=True)


def test_the_analysis_turns_the_crossing_share_into_a_count_of_levels(tmp_path):
    from benchmark.reporting.analysis import curves_section

    (tmp_path / "docs" / "curves").mkdir(parents=True)
    pd.DataFrame({"baseline": "ppo", "task": "SpuriousCue", "alpha": [0.0, 0.001, 0.01], "seeds": 1,
                  "env_steps": 1_000_000, "train_episodes": [1_000_000.0, 990_000.0, 980_000.0],
                  "capability_generalization": 1.0, "objective_generalization": [0.0, 0.7, 1.0],
                  "train_score": 1.0, "quadrant": ["misgeneralized", "robust", "robust"]}
                 ).to_csv(tmp_path / "docs" / "curves" / "ppo-SpuriousCue.csv", index=False)
    text = "\n".join(curves_section(tmp_path))
    assert "crosses OG = 0.5 at alpha = 0.001" in text
    assert "about 990 disambiguating levels (alpha x its 990,000 training episodes)" in text
