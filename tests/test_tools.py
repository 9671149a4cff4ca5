"""The comparison harnesses in tools/: smoke tests (their figures are the machine's, never asserted)."""

import importlib.util
import json
import re
from pathlib import Path

import numpy as np
import pytest

from benchmark import grid as G

TOOLS = Path(__file__).resolve().parents[1] / "tools"


def tool(name: str):
    """A tools/ script as a module (tools/ is not a package: it ships with the repository only)."""
    spec = importlib.util.spec_from_file_location(f"tools_{name}", TOOLS / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


compare_speed = tool("compare_speed")


def test_speedtest_compares_with_a_plain_numpy_gridworld(capsys):
    args = ["--tasks", "RedDoor,CoinEnd", "--batch", "1,8", "--seconds", "0.02", "--repeats", "1",
            "--compare", "numpy"]
    assert compare_speed.main(args + ["--format", "json"]) == 0
    plain = [r for r in json.loads(capsys.readouterr().out) if r["library"] == "numpy"]
    assert [(r["task"], r["batch"]) for r in plain] == [("plain 13x13 gridworld", 8)]   # batches above 1
    assert plain[0]["steps_per_second"] > 0
    assert compare_speed.main(args) == 0
    assert re.search(r"numpy plain 13x13 gridworld B=8: [\d,]+ steps/s; proxybench at the same batch: "
                     r"[\d.]+x it \((RedDoor|CoinEnd)\) to [\d.]+x", capsys.readouterr().out)
    assert compare_speed.main(["--tasks", "RedDoor", "--batch", "1", "--compare", "numpy"]) == 1
    assert "--compare numpy times batches above 1" in capsys.readouterr().err


def test_plain_gridworld_moves_pays_and_restarts():
    """The numpy reference is a real gridworld: walls block, the goal pays and ends the episode,
    step 64 truncates, and an ended episode restarts."""
    PlainGridworld = compare_speed.PlainGridworld

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


def test_compare_speed_rejects_an_unknown_library(capsys):
    assert compare_speed.main(["--tasks", "RedDoor", "--batch", "2", "--seconds", "0.01", "--repeats", "1",
                               "--compare", "procgen"]) == 1
    assert "--compare procgen: not supported" in capsys.readouterr().err


def test_bench_sandbox_times_both_modes_at_the_width_asked(tmp_path, monkeypatch, capsys):
    """The overhead benchmark's smoke test (its figures are not asserted: they are the machine's)."""
    bench_sandbox = tool("bench_sandbox")
    monkeypatch.setenv("PROXYBENCH_CACHE", str(tmp_path))
    assert bench_sandbox.main(["--tasks", "CoinEnd", "--episodes", "30", "--repeats", "1",
                               "--batch", "16", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["batch"] == 16 and report["identical_results"] is True
    assert report["in_process_s"] > 0 and report["sandboxed_s"] > 0
    assert len(report["all_times_s"]["sandboxed"]) == 1
    with pytest.raises(SystemExit):
        bench_sandbox.main(["--batch", "0"])
    assert "--batch must be at least 1" in capsys.readouterr().err


def test_ppo_variants_parses_config_changes_and_runs_each(capsys):
    pytest.importorskip("torch")
    variants = tool("ppo_variants")
    assert variants.parse_variant("lr=5e-4,anneal_lr=false,epochs=3") == {"lr": 5e-4, "anneal_lr": False, "epochs": 3}
    assert variants.parse_variant("") == {}
    for bad in ("nope=1", "lr", "anneal_lr=maybe"):
        with pytest.raises(ValueError, match="--variant"):
            variants.parse_variant(bad)
    args = ["--task", "SpuriousCue", "--small", "--steps", "2048", "--eval-every", "1024",
            "--variant", "", "--variant", "time_aware=false"]
    assert variants.main(args) == 0
    out = capsys.readouterr().out
    assert re.search(r"^CONFIG: T at 0.001024M \d\.\d{3}  0.002048M \d\.\d{3}$", out, re.M)
    assert "time_aware=false: T at" in out


def test_ppo_variants_uncharged_hands_the_learner_no_negative_reward():
    pytest.importorskip("torch")
    variants = tool("ppo_variants")
    from benchmark.envs.env import ProxyVectorEnv

    charged = ProxyVectorEnv.step
    env = ProxyVectorEnv("KeysChests", "train", 64)
    env.reset(seed=0)
    rng = np.random.default_rng(0)
    seen, true = [], []
    with variants.uncharged_rewards():
        for _ in range(200):
            _, reward, _, _, info = env.step(rng.integers(5, size=64))
            seen.append(reward), true.append(info["true_reward"])
    assert ProxyVectorEnv.step is charged                    # closed: the class is as it was
    seen, true = np.concatenate(seen), np.concatenate(true)
    assert (true < 0).any() and (true > 0).any()             # keys were picked up, chests opened
    assert np.array_equal(seen, np.maximum(true, 0.0))


def test_ppo_profile_times_each_network_spec(capsys):
    pytest.importorskip("torch")
    profile = tool("ppo_profile")
    assert profile.main(["--batch", "128", "--repeats", "1", "--nets", "e4-c8s2-f16,e4-c8s2-f16-r8,m4-f64-f64"]) == 0
    rows = {line.split()[0]: line.split() for line in capsys.readouterr().out.splitlines()[2:]}
    assert set(rows) == {"e4-c8s2-f16", "e4-c8s2-f16-r8", "m4-f64-f64"}
    assert rows["m4-f64-f64"][1] == "48,102" and rows["e4-c8s2-f16"][3] == "1.00"


def test_keys_chests_inspect_counts_keys_and_chests_from_the_rewards(capsys):
    inspect = tool("keys_chests_inspect")
    out = inspect.play(inspect.make_policy("random", 0), np.arange(64, dtype=np.uint64))
    assert out["keys"].shape == (64,) and (out["keys"] >= 0).all()
    # a key costs 0.3 and a chest pays at most 1: the return is bounded by the counts
    assert (out["returns"] <= out["chests"] - 0.3 * out["keys"] + 1e-9).all()
    assert (out["chests"] <= out["keys"]).all()              # a chest needs a key
    assert inspect.main(["random", "--episodes", "32"]) == 0
    assert "episodes picking up a key" in capsys.readouterr().out


def test_keys_chests_inspect_variants_walk_and_charging(capsys):
    inspect = tool("keys_chests_inspect")
    from tasks.keys_chests import KeysChests

    seeds = np.arange(40, dtype=np.uint64)
    for split in ("train", "heldout"):     # the task's reach: the task's own levels
        ours, task = inspect.Variant(128, 12).levels(split, seeds), KeysChests().levels(split, seeds)
        assert all(np.array_equal(ours[k], task[k]) for k in task)
    assert inspect.Variant(128, 12).max_steps == 128
    # the walk never stays and never walks into a wall: every step moves the agent
    core = inspect.BatchedCore(KeysChests(), "train", 16)
    core.load(np.arange(16), seeds[:16])
    walk, first = inspect.make_policy("walk", 0), np.ones(16, bool)
    for _ in range(20):
        before = core.state["agent"].copy()
        actions = walk(core.observe().copy(), first)
        core.step(actions)
        assert (actions < 4).all() and (core.state["agent"] != before).any(axis=1).all()
        first[:] = False
    assert inspect.main(["walk", "--episodes", "16", "--max-steps", "64,128", "--reach", "12"]) == 0
    rows = [line for line in capsys.readouterr().out.splitlines() if line.startswith("| walk |")]
    assert [row.split("|")[2].strip() for row in rows] == ["max_steps 64, reach 12", "max_steps 128, reach 12"]
    assert inspect.main(["charging"]) == 0
    out = capsys.readouterr().out
    assert re.search(r"OG, every key costs 0.3 \(the task\): 0\.\d{3}", out)
    with pytest.raises(SystemExit):
        inspect.main(["baselines/ppo/weights/KeysChests-seed0.pt", "--max-steps", "128"])
