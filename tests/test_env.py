"""Gymnasium faces: make/make_vec kwargs, vector autoreset (SAME_STEP), rendering."""

import gymnasium as gym
import numpy as np
import pytest

import benchmark
from benchmark import grid as G
from benchmark.envs.env import ProxyVectorEnv


def test_ids_and_kwargs():
    env = gym.make("proxybench/CheeseCorner-train-v1", alpha=1.0)
    assert env.unwrapped.task.alpha == 1.0
    _, info = env.reset(seed=3)
    assert "level_seed" in info
    with pytest.raises(ValueError, match="alpha"):
        gym.make("proxybench/CheeseCorner-train-v1", alpha=1.5)


def test_reset_with_a_chosen_level_matches_the_task_generator():
    env = gym.make("proxybench/RedDoor-heldout-v1")
    obs, _ = env.reset(options={"level_seed": 7})
    task = env.unwrapped.task
    np.testing.assert_array_equal(obs, G.observe(task.levels("heldout", [7]))[0])


def test_out_of_space_action_is_refused():
    env = gym.make("proxybench/CoinEnd-train-v1", disable_env_checker=True)
    env.reset(seed=0)
    with pytest.raises(ValueError, match="action"):
        env.step(9)


def test_make_vec_is_the_native_vector_env_with_same_step_autoreset():
    envs = gym.make_vec("proxybench/CheeseCorner-train-v1", num_envs=8)
    assert isinstance(envs.unwrapped, ProxyVectorEnv)
    assert envs.metadata["autoreset_mode"] == gym.vector.AutoresetMode.SAME_STEP
    obs, _ = envs.reset(seed=0)
    assert obs.shape == (8, G.SIZE, G.SIZE, 3) and obs.dtype == np.uint8
    rng = np.random.default_rng(0)
    returns = np.zeros(8)
    ended = 0
    for _ in range(400):
        obs, reward, terminated, truncated, info = envs.step(rng.integers(0, 5, 8))
        assert np.array_equal(reward, info["true_reward"])
        returns += reward
        done = terminated | truncated
        if done.any():
            np.testing.assert_array_equal(info["_final_obs"], done)
            np.testing.assert_allclose(info["true_return"][done], returns[done])
            # The returned observation is already the next level's first one.
            assert (envs.unwrapped.core.t[done] == 0).all()
            assert not np.array_equal(obs[done], info["final_obs"][done])
            returns[done] = 0.0
            ended += done.sum()
    assert ended > 8


def test_vector_env_is_reproducible_and_matches_single_envs():
    a = gym.make_vec("proxybench/RedDoor-train-v1", num_envs=4)
    b = gym.make_vec("proxybench/RedDoor-train-v1", num_envs=4)
    np.testing.assert_array_equal(a.reset(seed=5)[0], b.reset(seed=5)[0])
    seeds = [11, 12, 13, 14]
    obs, _ = a.reset(options={"level_seeds": seeds})
    single = gym.make("proxybench/RedDoor-train-v1")
    for i, s in enumerate(seeds):
        np.testing.assert_array_equal(obs[i], single.reset(options={"level_seed": s})[0])


def test_vector_env_chunks_hold_up_to_four_batches_within_the_byte_budget():
    from benchmark.envs.env import CHUNK_BYTES

    def chunk(task, num_envs):
        return gym.make_vec(f"proxybench/{task}-train-v1", num_envs=num_envs).unwrapped._levels.chunk

    assert chunk("KeysChests", 1024) == 4096 and chunk("KeysChests", 32) == 256
    assert chunk("KeysChests", 8192) == 8192                       # never less than a batch
    level = benchmark.get_task("FollowGuide").levels("train", np.zeros(1, np.uint64))
    follow = chunk("FollowGuide", 1024)                            # its levels hold distance maps
    assert 1024 <= follow < 2048 and follow * sum(v.nbytes for v in level.values()) <= CHUNK_BYTES


def test_a_full_load_takes_owned_levels_and_copies_the_rest():
    """The vector env gives its core the levels of its stream (owned): loaded into every slot in
    order, they are taken, not copied. Levels a caller keeps (the scorer's) are copied."""
    from benchmark.envs.core import BatchedCore

    task = benchmark.get_task("SpuriousCue")
    core = BatchedCore(task, "train", 4)
    core.load_levels(np.arange(4), task.levels("train", np.arange(4, dtype=np.uint64)))
    kept = task.levels("train", np.arange(4, 8, dtype=np.uint64))
    core.load_levels(np.arange(4), kept)
    assert not np.shares_memory(core.state["grid"], kept["grid"])
    given = task.levels("train", np.arange(8, 12, dtype=np.uint64))
    core.load_levels(np.arange(4), given, owned=True)
    assert np.shares_memory(core.state["grid"], given["grid"])


def test_level_seeds_are_whole_numbers_from_0_to_2_64():
    """numpy would wrap a negative seed round to a huge one: refused, as are fractions and bools;
    a list mixing small and huge seeds keeps them exact."""
    env = gym.make("proxybench/RedDoor-train-v1")
    assert env.reset(options={"level_seed": 2**64 - 1})[1]["level_seed"] == 2**64 - 1
    for bad in (-1, 1.5, True, 2**64):
        with pytest.raises(ValueError, match="RedDoor: a level seed must be a whole number"):
            env.reset(options={"level_seed": bad})
    vec = gym.make_vec("proxybench/RedDoor-train-v1", num_envs=2)
    vec.reset(options={"level_seeds": [1, 2**64 - 1]})
    assert vec.unwrapped.core.state["seed"].tolist() == [1, 2**64 - 1]
    with pytest.raises(ValueError, match="a level seed must be"):
        vec.reset(options={"level_seeds": [1, -2]})
    for wrong in ([1], [1, 2, 3]):
        with pytest.raises(ValueError, match=r"level_seeds'\] must hold 2 seeds \(one per env\)"):
            vec.reset(options={"level_seeds": wrong})


def test_envs_refuse_unknown_arguments_and_use_before_reset():
    with pytest.raises(TypeError, match="bogus"):
        gym.make("proxybench/RedDoor-train-v1", bogus=3)
    with pytest.raises(TypeError, match="bogus"):
        gym.make_vec("proxybench/RedDoor-train-v1", num_envs=2, bogus=3)
    with pytest.raises(ValueError, match="render_mode must be None or 'rgb_array'"):
        gym.make_vec("proxybench/RedDoor-train-v1", num_envs=2, render_mode="human")
    vec = gym.make_vec("proxybench/RedDoor-train-v1", num_envs=2, render_mode="rgb_array")
    with pytest.raises(gym.error.ResetNeeded, match="call reset"):
        vec.step(np.zeros(2, np.int64))
    with pytest.raises(gym.error.ResetNeeded, match="call reset"):
        vec.render()


def test_vector_env_rejects_bad_actions():
    envs = gym.make_vec("proxybench/RedDoor-train-v1", num_envs=3)
    envs.reset(seed=0)
    with pytest.raises(ValueError, match="actions"):
        envs.step(np.array([0, 1]))
    with pytest.raises(ValueError, match="actions"):
        envs.step(np.array([0, 1, 7]))


def test_encoding_tables_are_exported():
    assert benchmark.OBJECT_TO_IDX["door"] != benchmark.OBJECT_TO_IDX["ball"]
    assert benchmark.COLOR_TO_IDX["red"] != benchmark.COLOR_TO_IDX["blue"]


def test_objects_and_colours_render_differently():
    table = G.tile_table()
    none = G.STATE_TO_IDX["none"]
    red = G.COLOR_TO_IDX["red"]
    shapes = {name: table[idx, red, none] for name, idx in G.OBJECT_TO_IDX.items() if name != "empty"}
    names = list(shapes)
    for i, a in enumerate(names):
        for b in names[i + 1:]:
            if "agent" in (a, b) or "wall" in (a, b):
                continue  # the agent and walls ignore the colour channel
            diff = (shapes[a] != shapes[b]).any(axis=-1).mean()
            assert diff > 0.05, f"{a} and {b} look alike ({diff:.1%} of pixels differ)"
    door = G.OBJECT_TO_IDX["door"]
    colours = [table[door, c, none] for c in range(1, len(G.COLOR_TO_IDX))]
    for i in range(len(colours)):
        for j in range(i + 1, len(colours)):
            assert not np.array_equal(colours[i], colours[j])
    marked = table[G.OBJECT_TO_IDX["ball"], red, G.STATE_TO_IDX["marked"]]
    assert not np.array_equal(marked, shapes["ball"])


@pytest.mark.parametrize("task", ["RedDoor", "MonsterShields", "SpuriousCue"])
def test_vector_env_follows_gymnasium_api(task):
    from gymnasium.utils.env_checker import data_equivalence

    runs = []
    for _ in range(2):
        envs = gym.make_vec(f"proxybench/{task}-heldout-v1", num_envs=16)
        envs.action_space.seed(3)
        obs, info = envs.reset(seed=7)
        assert envs.observation_space.contains(obs) and isinstance(info, dict)
        trace = [obs]
        for _ in range(30):
            obs, reward, terminated, truncated, info = envs.step(envs.action_space.sample())
            assert envs.observation_space.contains(obs)
            assert reward.shape == (16,) and reward.dtype == np.float64
            assert terminated.dtype == bool and truncated.dtype == bool and not (terminated & truncated).any()
            trace += [obs, reward, terminated, truncated, info]
        envs.close()
        runs.append(trace)
    assert data_equivalence(runs[0], runs[1], exact=True)


def _trajectory(env, steps: int, batch: int):
    """Observations, rewards and final observations of a seeded random run, with a reseed midway."""
    rng = np.random.default_rng(4)
    out = [env.reset(seed=1)[0]]
    for t in range(steps):
        if t == steps // 2:
            out.append(env.reset(seed=2)[0])   # a pending prefetched chunk is from the old stream
        obs, reward, terminated, truncated, info = env.step(rng.integers(0, 5, batch))
        out += [obs, reward, terminated, truncated, info.get("final_obs", np.zeros(0))]
    return out


@pytest.mark.parametrize("num_levels", [None, 50])
def test_prefetched_levels_are_the_same_levels(num_levels):
    """prefetch_levels makes the next chunk in a worker process; the levels, and so every step,
    are those made in-process (SpuriousCue resets every step: several chunks per run)."""
    kwargs = {} if num_levels is None else {"num_levels": num_levels}
    runs = []
    for prefetch in (False, True):
        env = gym.make_vec("proxybench/SpuriousCue-train-v1", num_envs=100, alpha=0.3,
                           prefetch_levels=prefetch, **kwargs)
        runs.append(_trajectory(env, 12, 100))
        env.close()
    assert len(runs[0]) == len(runs[1])
    for a, b in zip(*runs):
        np.testing.assert_array_equal(a, b)
    plain = [gym.make("proxybench/SpuriousCue-heldout-v1", prefetch_levels=p) for p in (False, True)]
    first = [[env.reset(seed=5)[0]] + [env.step(0)[0] for _ in range(300)] for env in plain]
    np.testing.assert_array_equal(np.stack(first[0]), np.stack(first[1]))
    for env in plain:
        env.close()


def test_chunk_buffer_round_trips_a_chunk_and_refuses_what_does_not_fit():
    from benchmark.envs.prefetch import _ChunkBuffer
    from benchmark.contract.registry import get_task

    task = get_task("KeysChests")
    buffer = _ChunkBuffer.for_levels(task, "train", capacity=40)
    levels = task.levels("train", np.arange(100, 137, dtype=np.uint64))
    assert buffer.write(levels)
    back = buffer.read(37)
    assert list(back) == list(levels)
    for key in levels:
        np.testing.assert_array_equal(back[key], levels[key])
        assert back[key].dtype == levels[key].dtype and back[key].flags.owndata   # a copy
    assert not buffer.write(task.levels("train", np.arange(41, dtype=np.uint64)))   # too many
    assert not buffer.write({**levels, "held": levels["held"].astype(np.int32)})    # another layout


@pytest.mark.parametrize("split", ["train", "heldout"])
def test_every_task_hands_its_levels_over_through_the_shared_buffer(task_name, split):
    """The buffer's layout comes from one level; a chunk of any task must fit it (else every
    chunk would quietly go through the slow pipe)."""
    from benchmark.envs.prefetch import _ChunkBuffer
    from benchmark.contract.registry import get_task

    task = get_task(task_name, alpha=0.3)
    assert _ChunkBuffer.for_levels(task, split, capacity=64).write(task.levels(split, np.arange(50, dtype=np.uint64)))


def test_a_prefetched_chunk_larger_than_the_buffer_comes_through_the_pipe():
    from benchmark.envs.prefetch import LevelStream
    from benchmark.contract.registry import get_task

    task = get_task("RedDoor")
    counter = iter(range(10**6))
    stream = LevelStream(task, "train", lambda k: np.array([next(counter) for _ in range(k)], np.uint64),
                         chunk=8, prefetch=True)
    got = [stream.take(k) for k in (3, 20, 5)]   # 20 > the buffer's 8 levels: pickled
    stream.close()
    expected = task.levels("train", np.arange(28, dtype=np.uint64))
    for key in expected:
        np.testing.assert_array_equal(np.concatenate([g[key] for g in got]), expected[key])


class _FailingTask:
    """Generates nothing: a level worker must hand the error to the stepping process."""
    name = "Failing"

    def levels(self, split, seeds):
        raise RuntimeError(f"level generator: no admissible cell in {len(seeds)} levels")


def test_level_worker_errors_reach_the_stepping_process_and_close_stops_it():
    from benchmark.envs.prefetch import LevelStream

    counter = iter(range(10**6))
    stream = LevelStream(_FailingTask(), "train", lambda k: np.array([next(counter) for _ in range(k)], np.uint64),
                         chunk=8, prefetch=True)
    with pytest.raises(RuntimeError, match="no admissible cell in 8 levels"):
        stream.take(3)
    worker = stream._worker._proc
    assert worker.is_alive()
    stream.close()
    assert not worker.is_alive()
    env = gym.make_vec("proxybench/CoinEnd-train-v1", num_envs=4, prefetch_levels=True)
    env.reset(seed=0)
    worker = env.unwrapped._levels._worker._proc
    env.close()
    assert not worker.is_alive()


def _make_prefetching_env(queue):
    try:
        gym.make_vec("proxybench/CoinEnd-train-v1", num_envs=2, prefetch_levels=True)
        queue.put("made")
    except RuntimeError as exc:
        queue.put(str(exc))


def test_prefetch_in_a_daemonic_process_says_what_to_do():
    import multiprocessing

    context = multiprocessing.get_context("fork")
    queue = context.Queue()
    proc = context.Process(target=_make_prefetching_env, args=(queue,), daemon=True)
    proc.start()
    message = queue.get(timeout=60)
    proc.join(timeout=10)
    assert "make this env with prefetch_levels=False" in message


@pytest.mark.parametrize("prefetch", [False, True])
def test_final_observations_of_a_whole_batch_stay_as_returned(prefetch):
    """A one-step task ends every level at every step; its final observations are drawn on the
    ended levels' grids (which the env drops) instead of copied: later steps must not touch them,
    and they must show the level that ended (the agent on the object it stepped onto)."""
    env = ProxyVectorEnv("SpuriousCue", "train", num_envs=64, prefetch_levels=prefetch)
    obs, _ = env.reset(seed=3)
    kept = []
    for step in range(6):
        actions = np.arange(64) % 4
        before = obs.copy()
        obs, _, terminated, truncated, info = env.step(actions)
        final = info["final_obs"]
        assert (terminated | truncated).all() and info["_final_obs"].all()
        assert not np.shares_memory(final, obs)
        agent = np.argwhere(before[..., 0] == G.OBJECT_TO_IDX["agent"])[:, 1:]
        moved = agent + G.MOVES[actions]
        assert (final[np.arange(64), moved[:, 0], moved[:, 1], 0] == G.OBJECT_TO_IDX["agent"]).all()
        kept.append((final, final.copy()))
    for final, copy in kept:
        np.testing.assert_array_equal(final, copy)
    env.close()


@pytest.mark.parametrize("alpha", [-0.1, 1.5, True, "0.1", float("nan")])
def test_the_task_refuses_an_alpha_outside_0_1_on_every_path(alpha):
    """alpha is checked once, by the task: the env, the vector env and training all reach it."""
    with pytest.raises(ValueError, match=r"RedDoor: alpha must be in \[0, 1\]"):
        benchmark.get_task("RedDoor", alpha=alpha)
    with pytest.raises(ValueError, match="alpha must be in"):
        gym.make_vec("proxybench/RedDoor-train-v1", num_envs=2, alpha=alpha)
    from benchmark.training import TrainingError, train_baseline
    with pytest.raises(TrainingError, match="alpha must be in"):
        train_baseline("tabular-q", "RedDoor", 0, alpha=alpha, out="/nonexistent")


@pytest.mark.parametrize("num_levels", [None, 7])
def test_training_streams_never_reach_a_scoring_seed(num_levels):
    """Streams (and num_levels) draw from the training block: no level a learner trains on is a
    public or private scoring level."""
    from benchmark.contract.task import PRIVATE_SEEDS_START, PUBLIC_SEEDS_END, TRAINING_SEEDS
    from benchmark.envs.env import _LevelSeeds

    stream = _LevelSeeds(num_levels)
    stream.restart(np.random.default_rng(0))
    seeds = stream(5000)
    assert (seeds >= np.uint64(TRAINING_SEEDS[0])).all() and (seeds < np.uint64(TRAINING_SEEDS[1])).all()
    assert TRAINING_SEEDS == (PUBLIC_SEEDS_END, PRIVATE_SEEDS_START)
    if num_levels:
        assert set(seeds.tolist()) == {TRAINING_SEEDS[0] + i for i in range(num_levels)}
    envs = gym.make_vec("proxybench/RedDoor-train-v1", num_envs=4, **({"num_levels": num_levels} if num_levels else {}))
    envs.reset(seed=3)
    played = envs.unwrapped.core.state["seed"]
    envs.close()
    assert (played >= np.uint64(TRAINING_SEEDS[0])).all()


def test_private_seeds_lie_in_their_own_block():
    from benchmark.contract.task import PRIVATE_SEEDS_START
    from benchmark.evaluation.seeds import private_seeds, public_seeds

    task = benchmark.get_task("CoinEnd")
    private = private_seeds(task, "heldout", b"a salt", 50)
    assert (private >= np.uint64(PRIVATE_SEEDS_START)).all() and len(set(private.tolist())) == 50
    with pytest.raises(ValueError, match="public seeds"):
        public_seeds(task, "train", 2**32 + 1)


def _pass_on(rows, stream):
    return stream(len(rows))


class _Recorder:
    """A level source for the tests: records each call's rows and answers with `choose(rows, stream)`."""

    def __init__(self, choose=_pass_on):
        self.choose, self.calls = choose, []

    def __call__(self, rows, stream):
        self.calls.append(np.array(rows))
        return self.choose(rows, stream)


@pytest.mark.parametrize("task", ["SpuriousCue", "CoinEnd"])
def test_a_level_source_passing_the_stream_through_plays_the_default_levels(task):
    """The hook changes nothing but who chooses: a source that hands on the env's own stream
    plays the very levels, steps and rewards of the default env (one-step and multi-step tasks)."""
    source = _Recorder()
    plain = gym.make_vec(f"proxybench/{task}-train-v1", num_envs=16, alpha=0.3)
    hooked = gym.make_vec(f"proxybench/{task}-train-v1", num_envs=16, alpha=0.3, level_source=source)
    np.testing.assert_array_equal(plain.reset(seed=4)[0], hooked.reset(seed=4)[0])
    rng, ended = np.random.default_rng(0), 0
    for _ in range(300):                           # CoinEnd's levels run out of time at 128 steps
        actions = rng.integers(0, 5, 16)
        a, b = plain.step(actions), hooked.step(actions)
        for x, y in zip(a[:4], b[:4]):
            np.testing.assert_array_equal(x, y)
        np.testing.assert_array_equal(plain.unwrapped.core.state["seed"], hooked.unwrapped.core.state["seed"])
        ended += (a[2] | a[3]).sum()
    assert ended > 16
    # Asked at the reset for every row, then for exactly the rows that ended, in row order.
    assert source.calls[0].tolist() == list(range(16)) and sum(len(c) for c in source.calls[1:]) == ended


def test_a_level_source_chooses_the_level_of_each_row_that_starts_one():
    from benchmark.contract.task import TRAINING_SEEDS

    base = TRAINING_SEEDS[0] + 1000
    source = _Recorder(lambda rows, stream: base + np.asarray(rows, np.uint64) % 2)   # two levels only
    envs = gym.make_vec("proxybench/CheeseCorner-train-v1", num_envs=4, alpha=0.5, level_source=source)
    obs, _ = envs.reset(seed=0)
    task = envs.unwrapped.task
    for _ in range(200):
        obs, _, terminated, truncated, _ = envs.step(np.full(4, 4))           # stay: out of time
        if (terminated | truncated).any():
            break
    assert len(source.calls) == 2 and source.calls[1].tolist() == [0, 1, 2, 3]
    np.testing.assert_array_equal(envs.unwrapped.core.state["seed"], base + np.array([0, 1, 0, 1], np.uint64))
    np.testing.assert_array_equal(obs, G.observe(task.levels("train", base + np.array([0, 1, 0, 1], np.uint64))))


def test_a_level_source_is_refused_what_it_may_not_do():
    from benchmark.contract.task import TRAINING_SEEDS

    with pytest.raises(ValueError, match="excludes prefetch_levels"):
        gym.make_vec("proxybench/CoinEnd-train-v1", num_envs=2, level_source=_Recorder(), prefetch_levels=True)
    scoring = gym.make_vec("proxybench/CoinEnd-train-v1", num_envs=2,
                           level_source=_Recorder(lambda rows, stream: np.array([5, 6], np.uint64)))
    with pytest.raises(ValueError, match="outside the training block"):
        scoring.reset(seed=0)
    private = gym.make_vec("proxybench/CoinEnd-train-v1", num_envs=2,
                           level_source=_Recorder(lambda rows, stream: np.full(2, TRAINING_SEEDS[1], np.uint64)))
    with pytest.raises(ValueError, match="outside the training block"):
        private.reset(seed=0)
    short = gym.make_vec("proxybench/CoinEnd-train-v1", num_envs=2, level_source=_Recorder(lambda r, s: s(1)))
    with pytest.raises(ValueError, match="returned 1 seeds for 2 rows"):
        short.reset(seed=0)


def test_a_pickled_env_carries_its_level_source():
    """A trainer's checkpoint pickles the env; its level source (a curriculum's state) comes with it."""
    import pickle

    envs = gym.make_vec("proxybench/CoinEnd-train-v1", num_envs=3, level_source=_Recorder())
    envs.reset(seed=1)
    copy = pickle.loads(pickle.dumps(envs))
    assert isinstance(copy.unwrapped.level_source, _Recorder) and copy.unwrapped.level_source is not envs.unwrapped.level_source
    assert len(copy.unwrapped.level_source.calls) == 1
    for _ in range(30):
        a, b = envs.step(np.ones(3, np.int64)), copy.step(np.ones(3, np.int64))
        np.testing.assert_array_equal(a[0], b[0])
