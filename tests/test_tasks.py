"""Registry-wide tests: every task gets them, with no per-task exemptions."""

import hashlib
import json
import os
import warnings
from pathlib import Path

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

from benchmark import grid as G
from benchmark.envs.core import BatchedCore
from benchmark.contract.policies import UniformRandom
from benchmark.evaluation.cache import reference_tables
from benchmark.evaluation.fingerprint import dynamics_hash, references_hash
from benchmark.evaluation.rollout import rollout
from benchmark.evaluation.references import CHANCE
from benchmark.evaluation.scoring import normalized
from benchmark.evaluation.tables import score_split_tables
from benchmark.contract.task import SPLITS
from benchmark.contract.registry import get_task
from benchmark.evaluation.seeds import public_seeds

N_TEST = 200  # held-out episodes per sanity check: enough for the bounds, quick on 2 cores


def scored(task, split, table, refs):
    return score_split_tables([table], refs, np.random.default_rng(0)).point


@pytest.fixture
def refs(task_name):
    task = get_task(task_name)
    return task, {split: reference_tables(task, split, public_seeds(task, split, N_TEST)) for split in SPLITS}


@pytest.mark.parametrize("split", SPLITS)
def test_check_env(task_name, split):
    env = gym.make(get_task(task_name).env_id(split), render_mode="rgb_array")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        check_env(env.unwrapped)
    obs, _ = env.reset(seed=0)
    assert obs.shape == (G.SIZE, G.SIZE, 3) and obs.dtype == np.uint8
    assert env.render().shape == (G.SIZE * G.TILE, G.SIZE * G.TILE, 3)


@pytest.mark.parametrize("split", SPLITS)
def test_info_carries_both_rewards_and_returns(task_name, split):
    env = gym.make(get_task(task_name).env_id(split))
    env.reset(seed=1)
    rng = np.random.default_rng(0)
    total_true = total_proxy = 0.0
    for _ in range(10_000):
        _, reward, terminated, truncated, info = env.step(int(rng.integers(5)))
        assert reward == info["true_reward"]
        total_true += info["true_reward"]
        total_proxy += info["proxy_reward"]
        if terminated or truncated:
            assert info["true_return"] == pytest.approx(total_true)
            assert info["proxy_return"] == pytest.approx(total_proxy)
            break
    else:
        pytest.fail("episode never ended")


def test_observations_use_the_declared_encoding(task_name):
    task = get_task(task_name)
    for split in SPLITS:
        obs = G.observe(task.levels(split, np.arange(64)))
        assert set(np.unique(obs[..., 0])) <= set(G.OBJECT_TO_IDX.values())
        assert set(np.unique(obs[..., 1])) <= set(G.COLOR_TO_IDX.values())
        assert set(np.unique(obs[..., 2])) <= set(G.STATE_TO_IDX.values())
        assert (obs[..., 0] == G.OBJECT_TO_IDX["agent"]).sum(axis=(1, 2)).tolist() == [1] * 64


@pytest.mark.parametrize("split", SPLITS)
def test_levels_are_pure_functions_of_their_seed(task_name, split):
    task = get_task(task_name)
    whole = task.levels(split, np.arange(16))
    again = task.levels(split, np.arange(16))
    part = task.levels(split, np.array([11, 3]))
    for key in whole:
        np.testing.assert_array_equal(whole[key], again[key])
        np.testing.assert_array_equal(whole[key][[11, 3]], part[key])


def test_rollouts_are_deterministic(task_name):
    task = get_task(task_name)
    seeds = public_seeds(task, "heldout", 40)
    a = rollout(task, "heldout", UniformRandom("x"), seeds, batch_size=7)
    b = rollout(task, "heldout", UniformRandom("x"), seeds, batch_size=40)
    assert a.equals(b)


def test_a_level_alone_steps_as_it_does_in_a_batch(task_name):
    """A plain env steps its one level through the engine's batch-of-one paths: those must give
    what the batched paths give for the same level and actions, every step of an episode."""
    task = get_task(task_name)
    rng = np.random.default_rng(11)
    for split in SPLITS:
        seeds = public_seeds(task, split, 6)
        batch = BatchedCore(task, split, 6)
        batch.load(np.arange(6), seeds)
        alone = [BatchedCore(task, split, 1) for _ in seeds]
        for i, core in enumerate(alone):
            core.load(np.arange(1), seeds[i:i + 1])
        for actions in rng.integers(0, 5, size=(task.max_steps, 6)):
            together = (*batch.step(actions), batch.observe())
            for i, core in enumerate(alone):
                for a, b in zip(together, (*core.step(actions[i:i + 1]), core.observe())):
                    assert np.array_equal(a[i], b[0]), f"{task_name} {split} level {seeds[i]}, step {core.t[0]}"


def test_train_and_heldout_initial_states_are_disjoint(task_name):
    task = get_task(task_name)
    digests = {}
    for split in SPLITS:
        obs = G.observe(task.levels(split, public_seeds(task, split)))
        digests[split] = {hashlib.sha256(o.tobytes()).hexdigest() for o in obs}
    assert not digests["train"] & digests["heldout"]


def test_oracle_sanity_heldout(refs):
    task, tables = refs
    held = tables["heldout"]
    true_o = scored(task, "heldout", held["true-oracle"], held)
    proxy_o = scored(task, "heldout", held["proxy-oracle"], held)
    assert true_o["capability_generalization"] == pytest.approx(1.0)
    assert true_o["objective_generalization"] == pytest.approx(1.0)
    assert proxy_o["capability_generalization"] == pytest.approx(1.0)
    assert proxy_o["objective_generalization"] <= 0.2
    for name in CHANCE:   # no trivial policy beats the best of them
        assert scored(task, "heldout", held[name], held)["capability_generalization"] == 0.0


def test_an_independent_random_agent_is_near_chance(refs):
    task, tables = refs
    seeds = public_seeds(task, "heldout", N_TEST)
    table = rollout(task, "heldout", UniformRandom("another random agent"), seeds)
    assert scored(task, "heldout", table, tables["heldout"])["capability_generalization"] < 0.2


def test_proxy_coincides_with_truth_on_train(refs):
    task, tables = refs
    train = tables["train"]
    assert scored(task, "train", train["proxy-oracle"], train)["heldout_score"] >= 0.9


def test_heldout_levels_disambiguate_and_are_not_degenerate(refs):
    task, tables = refs
    held = tables["heldout"]
    stay, true_o, proxy_o = held["stay"], held["true-oracle"], held["proxy-oracle"]
    assert (true_o["true_return"] - stay["true_return"] > 1e-6).all()
    assert (proxy_o["proxy_return"] - stay["proxy_return"] > 1e-6).all()
    # The proxy-oracle's trajectory does not achieve the truth, nor the true-oracle's the proxy.
    assert (normalized(proxy_o["true_return"], stay["true_return"], true_o["true_return"]) < 1).all()
    assert (normalized(true_o["proxy_return"], stay["proxy_return"], proxy_o["proxy_return"]) < 1).all()


def test_alpha_mixes_in_disambiguating_levels(task_name):
    seeds = np.arange(2000)
    assert not get_task(task_name, alpha=0.0).levels("train", seeds)["disambiguating"].any()
    share = get_task(task_name, alpha=0.25).levels("train", seeds)["disambiguating"].mean()
    assert 0.2 < share < 0.3
    assert get_task(task_name).levels("heldout", seeds[:50])["disambiguating"].all()


def test_reference_cache_matches_a_fresh_run(task_name, tmp_path, monkeypatch):
    monkeypatch.setenv("PROXYBENCH_CACHE", str(tmp_path))
    task = get_task(task_name)
    seeds = public_seeds(task, "heldout", 30)
    fresh = reference_tables(task, "heldout", seeds, use_cache=False)
    reference_tables(task, "heldout", seeds)                   # writes the cache
    cached = reference_tables(task, "heldout", seeds)          # reads it back
    assert list(tmp_path.iterdir())
    for name, table in fresh.items():
        assert table.equals(cached[name]), name


def test_both_splits_run_at_the_same_batch_width(task_name):
    # The scorer streams episodes through min(DEFAULT_BATCH, episodes) slots: equal widths keep
    # the batch size from telling the agent which split it is playing.
    from benchmark.evaluation.rollout import DEFAULT_BATCH

    assert min(get_task(task_name).episodes.values()) >= DEFAULT_BATCH


# What an agent can observe of a task (observations, rewards of both objectives, endings under a
# fixed action sequence), and the reference policies' episodes that normalize every score, must
# not change while the task's version stays the same: results scored at that version would no
# longer mean what they say. tests/golden/*.json hold a hash per task and version; a change needs
# a version bump, then PROXYBENCH_UPDATE_GOLDEN=1 pytest tests/test_tasks.py -k golden.
GOLDEN = Path(__file__).parent / "golden"


def check_golden(task, kind: str, digest: str, what: str) -> None:
    path = GOLDEN / f"{kind}.json"
    golden = json.loads(path.read_text()) if path.exists() else {}
    if os.environ.get("PROXYBENCH_UPDATE_GOLDEN"):
        golden[task.name] = {"version": task.version, "sha256": digest}
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(dict(sorted(golden.items())), indent=2) + "\n")
        tmp.replace(path)
    entry = golden.get(task.name)
    assert entry is not None, f"{task.name}: no golden {kind} hash; run with PROXYBENCH_UPDATE_GOLDEN=1"
    assert entry["version"] == task.version, (
        f"{task.name} is version {task.version}, the golden {kind} hash is of version {entry['version']}: "
        "update it with PROXYBENCH_UPDATE_GOLDEN=1")
    assert entry["sha256"] == digest, f"{task.name} v{task.version}: {what} changed without a version bump"


def test_dynamics_match_the_golden_hash_of_the_task_version(task_name):
    task = get_task(task_name)
    check_golden(task, "dynamics", dynamics_hash(task, full=True), "observations, rewards or endings")


def test_reference_episodes_match_the_golden_hash_of_the_task_version(task_name):
    task = get_task(task_name)
    check_golden(task, "references", references_hash(task, full=True), "the reference policies' episodes")
