"""Training smoke tests of the deep baselines (ppo-sb3, behaviour cloning) and the SB3 adapter."""

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


def act_with(name, weights):
    """The agent of baseline `name` on the weights file `weights` (its folder passed as
    make_agent's `weights`), acting on a batch of first steps."""
    module = load_agent_module(name)
    agent = module.make_agent(TASK, 0, weights.parent)
    obs, first = a_batch()
    actions = agent.act(obs, first)
    assert actions.shape == (8,) and actions.dtype == np.int64
    assert ((actions >= 0) & (actions <= 4)).all()
    again = module.make_agent(TASK, 0, weights.parent)   # sampling, seeded by the training seed
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


def test_ppo_trains_saves_and_acts(tmp_path):
    from baselines.ppo_sb3.train import train

    path = train(TASK, 0, steps=8192, out=tmp_path, progress=False)
    assert path == tmp_path / f"{TASK}-seed0.pt"
    act_with("ppo_sb3", path)


def test_ppo_training_is_deterministic(tmp_path):
    from baselines.ppo_sb3.train import train

    a = torch.load(train(TASK, 1, steps=8192, out=tmp_path / "a", progress=False))["state_dict"]
    b = torch.load(train(TASK, 1, steps=8192, out=tmp_path / "b", progress=False))["state_dict"]
    for key in a:
        assert torch.equal(a[key], b[key]), key


def test_bc_trains_ppos_network_saves_and_acts_through_ppos_agent(tmp_path):
    from baselines.bc.train import BCConfig, train
    from baselines.ppo.agent import PPOAgent
    from baselines.ppo.ppo import NET

    path = train(TASK, 0, steps=2048, out=tmp_path, progress=False, config=BCConfig(epochs=1))
    assert path == tmp_path / f"{TASK}-seed0.pt"
    saved = torch.load(path, weights_only=True)
    assert saved["spec"] == NET and saved["max_steps"] == get_task(TASK).max_steps
    assert saved["config"]["time_aware"] is True and saved["demonstrator"] == "true-oracle"
    assert all(v.dtype == torch.float16 for v in saved["state_dict"].values())
    assert isinstance(load_agent_module("bc").make_agent(TASK, 0, tmp_path), PPOAgent)
    act_with("bc", path)


def test_bc_training_is_deterministic(tmp_path):
    from baselines.bc.train import BCConfig, train

    def weights(seed, folder):
        config = BCConfig(epochs=2, minibatch=256)
        return torch.load(train(TASK, seed, steps=1024, out=tmp_path / folder, progress=False, config=config))

    a, b, c = (weights(seed, folder)["state_dict"] for seed, folder in ((1, "a"), (1, "b"), (2, "c")))
    for key in a:
        assert torch.equal(a[key], b[key]), key
    assert not all(torch.equal(a[key], c[key]) for key in a)   # another seed, other weights


def test_bc_demonstrations_come_from_the_true_oracle_as_the_network_reads_them():
    from baselines.bc.train import NUM_ENVS, demonstrations

    demos = demonstrations(TASK, 0, 0.0, 1000, progress=False)
    steps = 1000 // NUM_ENVS                                       # whole vector steps, within the budget
    assert len(demos) == steps * NUM_ENVS
    assert demos.cells.shape == (steps, NUM_ENVS, G.SIZE, G.SIZE) and demos.cells.dtype == torch.int16
    assert demos.actions.shape == demos.clock.shape == demos.first.shape == (steps, NUM_ENVS)
    assert set(demos.actions.unique().tolist()) <= set(range(5))
    # the oracle never stays put while the cheese is on the board
    assert (demos.actions != G.STAY).float().mean() > 0.95
    # the clock counts each level's steps from its episode's start (the `first` flags)
    assert (demos.first[0] == 1).all()
    t = torch.zeros(NUM_ENVS)
    for row in range(steps):
        t = torch.where(demos.first[row] == 1, 0.0, t + 1)
        assert torch.allclose(demos.clock[row], t / get_task(TASK).max_steps)
    # egocentric: ppo's `encode`, the agent at the centre
    agent = G.OBJECT_TO_IDX["agent"]
    assert ((demos.cells[..., G.SIZE // 2, G.SIZE // 2].long() // (len(G.COLOR_TO_IDX) * len(G.STATE_TO_IDX)))
            == agent).all()


def test_a_tiny_bc_clone_learns_spurious_cue(tmp_path):
    """8k oracle pairs (4 epochs, 128 updates) already lift the clone far above chance (T 0; it
    measured 0.90) on the train split."""
    from baselines.bc.train import BCConfig, train
    from baselines.ppo.ppo import load_weights, train_score

    config = BCConfig(epochs=4, minibatch=256)
    path = train("SpuriousCue", 0, steps=8192, out=tmp_path, progress=False, config=config)
    with open(tmp_path / "SpuriousCue-seed0.csv") as f:
        accuracy = float(f.read().strip().splitlines()[-1].split(",")[2])
    assert accuracy > 0.6                      # five actions: chance is at most about 0.3
    assert train_score(load_weights(path)[0], "SpuriousCue", 0) > 0.5


def test_bc_chunks_carry_the_memory_as_one_unbroken_replay():
    """With memory, an epoch replays each column in chunks, each starting from the memory the
    previous chunk ended with: with the weights held still, the logits are those of one replay
    of the whole column from zeros, episode starts included; every step is trained once."""
    from baselines.bc.train import BCConfig, Demonstrations, batches_per_epoch, minibatches
    from baselines.ppo.ppo import ActorCritic

    torch.manual_seed(0)
    model = ActorCritic("e4-c8s2-f16-r8")
    steps, envs = 10, 6
    first = (torch.rand(steps, envs) < 0.2).float()
    first[0] = 1
    demos = Demonstrations(torch.randint(0, 720, (steps, envs, G.SIZE, G.SIZE), dtype=torch.int16),
                           torch.rand(steps, envs), first, torch.arange(steps * envs).reshape(steps, envs))
    config = BCConfig(minibatch=8, chunk=4)                       # chunks of 4 steps, 2 columns each
    with torch.no_grad():
        whole = model.unroll(demos.cells, demos.clock, demos.first, model.initial_memory(envs))[0]
        seen = [(logits, target) for logits, target in minibatches(model, demos, config, torch.Generator())]
    assert len(seen) == batches_per_epoch(demos, config, True) == 3 * 3
    logits, target = torch.cat([x for x, _ in seen]), torch.cat([y for _, y in seen])
    assert sorted(target.tolist()) == list(range(steps * envs))  # the actions double as step ids
    assert torch.allclose(logits, whole[target], atol=1e-5)


def test_bc_clones_followguide_into_the_memory_network_and_acts_with_memory(tmp_path):
    from baselines.bc.train import BCConfig, train
    from baselines.ppo.ppo import NETS

    path = train("FollowGuide", 0, steps=2048, out=tmp_path, progress=False, config=BCConfig(epochs=1))
    assert torch.load(path, weights_only=True)["spec"] == NETS["FollowGuide"]
    agent = load_agent_module("bc").make_agent("FollowGuide", 0, tmp_path)
    task = get_task("FollowGuide")
    obs, first = G.observe(task.levels("train", np.arange(4))), np.ones(4, bool)
    actions = agent.act(obs, first)
    assert agent.memory is not None and agent.memory.shape == (4, 128)
    assert actions.shape == (4,) and ((actions >= 0) & (actions <= 4)).all()
    before = agent.memory.clone()
    agent.act(obs, np.zeros(4, bool))                 # memory carried from step to step
    assert not torch.equal(before, agent.memory)


def test_the_egocentric_view_puts_the_agent_at_the_centre():
    from baselines.nets import centred

    obs, _ = a_batch()
    codes = torch.from_numpy(obs)
    view = centred(codes, codes[..., 0].long()).numpy()
    assert (view[:, G.SIZE // 2, G.SIZE // 2] == G.OBJECT_TO_IDX["agent"]).all()
    # a cyclic roll: the same multiset of cells
    np.testing.assert_array_equal(np.sort(view.reshape(8, -1), axis=1), np.sort(obs[..., 0].reshape(8, -1), axis=1))
