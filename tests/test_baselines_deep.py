"""Training smoke tests of the deep baselines (PPO, behaviour cloning) and the SB3 adapter."""

import importlib.util

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("stable_baselines3")

from benchmark import grid as G  # noqa: E402
from benchmark.contract.registry import get_task  # noqa: E402
from benchmark.training import baselines_root  # noqa: E402

BASELINES = baselines_root()

TASK = "CheeseCorner"


def load_agent_module(name):
    spec = importlib.util.spec_from_file_location(f"{name}_agent_under_test", BASELINES / name / "agent.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def a_batch(n=8):
    return G.observe(get_task(TASK).levels("train", np.arange(n))), np.ones(n, bool)


def act_with(name, weights, monkeypatch):
    module = load_agent_module(name)
    monkeypatch.setattr(module, "WEIGHTS", weights.parent)
    agent = module.make_agent(TASK, 0)
    obs, first = a_batch()
    actions = agent.act(obs, first)
    assert actions.shape == (8,) and actions.dtype == np.int64
    assert ((actions >= 0) & (actions <= 4)).all()
    again = module.make_agent(TASK, 0)                  # sampling, seeded by the training seed
    np.testing.assert_array_equal(actions, again.act(obs, first))
    return actions


def test_sb3_adapter_follows_the_vecenv_protocol():
    from benchmark.envs.sb3 import ProxySB3VecEnv

    env = ProxySB3VecEnv(TASK, 16, seed=3)
    obs = env.reset()
    assert obs.shape == (16, G.SIZE, G.SIZE, 3) and obs.dtype == np.uint8
    assert env.observation_space.contains(obs[0])
    rng = np.random.default_rng(0)
    returns, ended = np.zeros(16), 0
    for _ in range(300):
        env.step_async(rng.integers(0, 5, 16))
        obs, reward, done, infos = env.step_wait()
        assert len(infos) == 16 and reward.dtype == np.float32 and done.dtype == bool
        returns += reward
        for i in np.flatnonzero(done):
            info = infos[i]
            assert info["terminal_observation"].shape == (G.SIZE, G.SIZE, 3)
            assert info["episode"]["r"] == pytest.approx(returns[i], abs=1e-5)
            assert info["episode"]["r"] == pytest.approx(info["true_return"])
            assert 1 <= info["episode"]["l"] <= get_task(TASK).max_steps
            assert info["TimeLimit.truncated"] == (info["episode"]["l"] == get_task(TASK).max_steps
                                                   and info["true_return"] <= 0)
            returns[i] = 0
            ended += 1
    assert ended > 0
    again = ProxySB3VecEnv(TASK, 16, seed=3)
    np.testing.assert_array_equal(again.reset(), ProxySB3VecEnv(TASK, 16, seed=3).reset())


def test_ppo_trains_saves_and_acts(tmp_path, monkeypatch):
    from baselines.ppo_sb3.train import train

    path = train(TASK, 0, steps=8192, out=tmp_path, progress=False)
    assert path == tmp_path / f"{TASK}-seed0.pt"
    act_with("ppo_sb3", path, monkeypatch)


def test_ppo_training_is_deterministic(tmp_path):
    from baselines.ppo_sb3.train import train

    a = torch.load(train(TASK, 1, steps=8192, out=tmp_path / "a", progress=False))["state_dict"]
    b = torch.load(train(TASK, 1, steps=8192, out=tmp_path / "b", progress=False))["state_dict"]
    for key in a:
        assert torch.equal(a[key], b[key]), key


def test_bc_trains_saves_and_acts(tmp_path, monkeypatch):
    from baselines.bc.train import train

    path = train(TASK, 0, steps=4096, out=tmp_path, progress=False)
    assert path == tmp_path / f"{TASK}-seed0.pt"
    act_with("bc", path, monkeypatch)


def test_bc_demonstrations_come_from_the_true_oracle():
    from baselines.bc.train import demonstrations

    obs, actions = demonstrations(TASK, 0, 0.0, 1000, progress=False)
    assert obs.shape == (1000, G.SIZE, G.SIZE, 3) and actions.shape == (1000,)
    assert set(np.unique(actions)) <= set(range(5))
    # the oracle never stays put while the cheese is on the board
    assert (actions != G.STAY).mean() > 0.95


def test_the_egocentric_view_puts_the_agent_at_the_centre():
    from baselines.nets import centred

    obs, _ = a_batch()
    codes = torch.from_numpy(obs)
    view = centred(codes, codes[..., 0].long()).numpy()
    assert (view[:, G.SIZE // 2, G.SIZE // 2] == G.OBJECT_TO_IDX["agent"]).all()
    # a cyclic roll: the same multiset of cells
    np.testing.assert_array_equal(np.sort(view.reshape(8, -1), axis=1), np.sort(obs[..., 0].reshape(8, -1), axis=1))
