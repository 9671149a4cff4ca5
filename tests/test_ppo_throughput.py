"""tools/ppo_throughput.py: a smoke test at a tiny size (its rates are the machine's, never asserted)
and the check that SB3 runs the native PPO's network."""

import dataclasses
import importlib.util
import json
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("stable_baselines3")

from baselines.ppo import ppo  # noqa: E402
from benchmark.envs.sb3 import ProxySB3VecEnv  # noqa: E402

TOOL = Path(__file__).resolve().parents[1] / "tools" / "ppo_throughput.py"


@pytest.fixture(scope="module")
def throughput():
    spec = importlib.util.spec_from_file_location("tools_ppo_throughput", TOOL)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_both_trainers_run_alternating_with_equal_networks(throughput, capsys):
    # 16 levels x 64 steps = one update of 1,024 env steps; 2,100 rounds down to two updates
    args = ["--task", "reddoor", "--steps", "2100", "--rounds", "2", "--num-envs", "16"]
    assert throughput.main(args + ["--format", "json"]) == 0
    captured = capsys.readouterr()
    report = json.loads(captured.out)
    assert report["task"] == "RedDoor" and report["steps"] == 2048 and report["num_envs"] == 16
    assert report["parameters"]["native"] == report["parameters"]["sb3"] == \
        sum(p.numel() for p in ppo.ActorCritic(ppo.NET).parameters())
    assert [r["order"] for r in report["rounds"]] == [["native", "sb3"], ["sb3", "native"]]
    for r in report["rounds"]:
        assert r["native_steps_per_s"] > 0 and r["sb3_steps_per_s"] > 0
    assert report["native_steps_per_s"] > 0 and report["sb3_steps_per_s"] > 0
    assert report["ratio"] == pytest.approx(report["native_steps_per_s"] / report["sb3_steps_per_s"], rel=1e-2)
    assert "round 2/2 native" in captured.err and "round 2/2" not in captured.out


def test_the_table_and_bad_arguments(throughput, capsys):
    assert throughput.main(["--steps", "1024", "--rounds", "1", "--num-envs", "16"]) == 0
    out = capsys.readouterr().out
    assert "native / sb3: " in out and "parameters" in out and "median" in out
    assert throughput.main(["--steps", "100", "--num-envs", "16"]) == 1
    assert "--steps must be at least one update (1,024)" in capsys.readouterr().err
    assert throughput.main(["--task", "NoSuchTask", "--num-envs", "16"]) == 1
    assert "unknown task 'NoSuchTask'" in capsys.readouterr().err


def test_sb3_runs_the_native_network(throughput):
    """With ActorCritic's weights loaded, SB3's policy gives the same logits and value on raw
    observations as ActorCritic on their encoding with a zero clock."""
    model = throughput.sb3_model("RedDoor", 0, dataclasses.replace(ppo.CONFIG, num_envs=16))
    native = ppo.ActorCritic(ppo.NET)
    policy = model.policy
    policy.features_extractor.encoder.load_state_dict(native.encoder.state_dict())
    policy.action_net.load_state_dict(native.pi.state_dict())
    policy.value_net.load_state_dict(native.v.state_dict())
    obs = ProxySB3VecEnv("RedDoor", 16, seed=1).reset()
    with torch.no_grad():
        logits, value = native(ppo.encode(obs), torch.zeros(len(obs)))
        tensor = policy.obs_to_tensor(obs)[0]
        sb3_logits = policy.get_distribution(tensor).distribution.logits
        sb3_value = policy.predict_values(tensor).squeeze(-1)
    np.testing.assert_allclose(torch.log_softmax(logits, -1).numpy(), sb3_logits.numpy(), atol=1e-5)
    np.testing.assert_allclose(value.numpy(), sb3_value.numpy(), atol=1e-5)
