"""The mitigation baselines of issue #21: robust prioritized level replay (baselines/ppo_plr/
curriculum.py) against hand-computed values, the purity of the levels it replays, ppo's level-choice
hook (evaluation-only steps take no gradient), tiny end-to-end runs with resume, and ppo-dr's
declared alpha. Seconds each."""

import csv
from pathlib import Path

import numpy as np
import pytest
import yaml

torch = pytest.importorskip("torch")

from baselines.ppo import ppo  # noqa: E402
from baselines.ppo.ppo import Config, average, normalise  # noqa: E402
from baselines.ppo_plr.curriculum import PLR, SETTINGS, OracleReturns  # noqa: E402
from benchmark import grid as G  # noqa: E402
from benchmark.contract.registry import get_task  # noqa: E402
from benchmark.contract.task import TRAINING_SEEDS  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
SMALL = Config(num_envs=64, num_steps=16, minibatch=256, eval_every=10**9, checkpoint_every=1000)
TINY_PLR = {"capacity": 16, "min_fill": 0.5}       # replays begin after 8 scored levels
BASE = TRAINING_SEEDS[0]


class Stream:
    """The env's seed stream, for curriculum tests: BASE + 100, 101, ..."""

    def __init__(self):
        self.next = 100

    def __call__(self, k):
        out = np.arange(self.next, self.next + k, dtype=np.uint64) + np.uint64(BASE)
        self.next += k
        return out


def filled(scores, last, clock, num_envs=1, **settings) -> PLR:
    """A curriculum whose buffer holds seeds BASE + 0, 1, ... with these scores and last starts."""
    plr = PLR(num_envs=num_envs, seed=0, **{"capacity": len(scores), "min_fill": 0.0, "replay_prob": 1.0, **settings})
    plr.size, plr.clock = len(scores), clock
    plr.seeds[:] = BASE + np.arange(len(scores), dtype=np.uint64)
    plr.scores[:], plr.last[:] = scores, last
    plr.slot = {int(s): i for i, s in enumerate(plr.seeds)}
    return plr


def test_the_settings_are_jaxgmgs():
    assert SETTINGS == {"capacity": 4096, "temperature": 0.1, "staleness": 0.1, "replay_prob": 0.5, "min_fill": 0.5}


def test_replay_probabilities_against_hand_computed_values():
    # Scores 0.5, 2.0, 1.0 rank 3, 1, 2: h^(1/0.5) = 1/9, 1, 1/4, summing to 49/36, so
    # P_S = 4/49, 36/49, 9/49. Clock 5, last starts 1, 3, 2: staleness 4, 2, 3, so P_C = 4/9, 2/9, 3/9.
    plr = filled([0.5, 2.0, 1.0], [1, 3, 2], clock=5, temperature=0.5, staleness=0.2)
    p_s, p_c = np.array([4, 36, 9]) / 49, np.array([4, 2, 3]) / 9
    np.testing.assert_allclose(plr.probabilities(), 0.8 * p_s + 0.2 * p_c)
    # Ties rank by slot; every level just started: the staleness term is uniform.
    tied = filled([1.0, 1.0, 1.0], [5, 5, 5], clock=5, temperature=1.0, staleness=0.5)
    np.testing.assert_allclose(tied.probabilities(), 0.5 * np.array([1, 1 / 2, 1 / 3]) / (11 / 6) + 0.5 / 3)
    # Temperature 0.1 (jaxgmg's): (1/rank)^10 puts nearly all the score weight on the top level.
    sharp = filled([0.5, 2.0, 1.0], [5, 5, 5], clock=5, temperature=0.1, staleness=0.0)
    np.testing.assert_allclose(sharp.probabilities(), np.array([3 ** -10, 1, 2 ** -10]) / (1 + 2 ** -10 + 3 ** -10))


def test_replays_are_drawn_from_the_replay_distribution():
    """Single-row starts from the same state, many times: the slot frequencies follow P."""
    expected = filled([0.5, 2.0, 1.0], [1, 3, 2], clock=5, temperature=0.5, staleness=0.2).probabilities()
    plr = filled([0.5, 2.0, 1.0], [1, 3, 2], clock=5, temperature=0.5, staleness=0.2)
    counts, n = np.zeros(3), 20_000
    for _ in range(n):
        plr.clock, plr.last[:] = 5, [1, 3, 2]
        plr.playing[0].clear()
        counts[int(plr(np.array([0]), Stream())[0] - np.uint64(BASE))] += 1
    np.testing.assert_allclose(counts / n, expected, atol=0.015)


def test_staleness_updates_as_episodes_start_and_levels_enter():
    plr = filled([0.5, 2.0, 1.0], [1, 3, 2], clock=5, num_envs=2, staleness=0.1)
    seeds = plr(np.array([0, 1]), Stream())                 # two starts, both replays, distinct
    assert plr.clock == 7 and len(set(seeds.tolist())) == 2
    chosen = [int(s - np.uint64(BASE)) for s in seeds]
    assert all(plr.last[i] == 7 for i in chosen)            # just started: staleness 0
    other = ({0, 1, 2} - set(chosen)).pop()
    assert plr.last[other] == [1, 3, 2][other]              # its staleness grew by the two starts
    assert plr.weight.tolist() == [1.0, 1.0]                # replays are trained on
    # A new level enters with the clock of its scoring.
    fresh = PLR(num_envs=1, seed=0, regret="pvl", capacity=4, min_fill=1.0)
    fresh(np.array([0]), Stream())
    fresh.clock = 9
    fresh.update(np.array([[1.0]]), np.array([[0.3]]), np.array([[0.5]]))
    assert fresh.size == 1 and fresh.last[0] == 9 and fresh.scores[0] == 0.5


def test_new_levels_are_evaluation_only_and_replay_starts_once_the_buffer_is_filled():
    plr = PLR(num_envs=64, seed=3, regret="pvl", capacity=8, min_fill=0.5, replay_prob=0.5)
    stream = Stream()
    seeds = plr(np.arange(64), stream)
    np.testing.assert_array_equal(seeds, np.uint64(BASE) + np.arange(100, 164, dtype=np.uint64))
    assert plr.weight.sum() == 0                            # an empty buffer: every level is new
    for score, row in zip([0.1, 0.9, 0.4, 0.7], range(4)):   # four levels scored: half full
        dones, adv = np.zeros((1, 64)), np.zeros((1, 64))
        dones[0, row], adv[0, row] = 1.0, score
        plr.update(dones, np.zeros((1, 64)), adv)
        plr(np.array([row]), stream)
    assert plr.size == 4
    starts = plr(np.arange(64), stream)
    replayed = plr.weight == 1
    assert 16 < replayed.sum() < 48                          # about half (p = 0.5)
    assert set(starts[replayed].tolist()) <= set(plr.seeds[:4].tolist())
    assert (starts[~replayed] >= np.uint64(BASE + 164)).all()   # new ones: the stream's next


def test_the_scores_pvl_and_exact_regret_against_hand_computed_values():
    # Row 0: an episode of 3 steps in the first rollout (advantages 0.4, -0.2, 0.5), then one of
    # 2 steps spanning both rollouts (0.3 | -0.1). Row 1: one episode over both (0.2, 0.2, -1, 0 | 0.6).
    plr = PLR(num_envs=2, seed=0, regret="pvl", capacity=8, min_fill=1.0)
    stream = Stream()
    plr(np.array([0, 1]), stream)                            # row 0: BASE+100, row 1: BASE+101
    plr(np.array([0]), stream)                               # row 0's second episode: BASE+102
    adv1 = np.array([[0.4, 0.2], [-0.2, 0.2], [0.5, -1.0], [0.3, 0.0]])
    done1 = np.array([[0, 0], [0, 0], [1, 0], [0, 0]], float)
    plr.update(done1, done1 * 0.7, adv1)
    assert plr.size == 1 and plr.scores[0] == pytest.approx((0.4 + 0.5) / 3)
    plr(np.array([0]), stream)
    plr(np.array([1]), stream)
    adv2, done2 = np.array([[-0.1, 0.6]]), np.array([[1.0, 1.0]])
    plr.update(done2, np.zeros((1, 2)), adv2)
    by_seed = {int(s) - BASE: plr.scores[i] for i, s in enumerate(plr.seeds[:plr.size])}
    assert by_seed == pytest.approx({100: 0.9 / 3, 102: 0.3 / 2, 101: (0.2 + 0.2 + 0.6) / 5})
    assert [len(q) for q in plr.playing] == [1, 1]           # each row's current episode only

    class Best:                                              # G*(s) = 1 + (s - BASE) / 1000
        calls = []

        def __call__(self, seeds):
            self.calls.append(len(seeds))
            return 1 + (seeds - np.uint64(BASE)).astype(float) / 1000

    exact = PLR(num_envs=2, seed=0, regret="oracle", oracle=Best(), capacity=8, min_fill=1.0)
    exact(np.array([0, 1]), Stream())
    exact.update(np.array([[1.0, 1.0]]), np.array([[0.25, 0.5]]), np.zeros((1, 2)))
    np.testing.assert_allclose(exact.scores[:2], [1.1 - 0.25, 1.101 - 0.5])
    np.testing.assert_allclose(exact.best[:2], [1.1, 1.101])
    assert Best.calls == [2]                                 # one batched oracle call


def test_a_full_buffer_replaces_its_least_likely_level_only_by_a_higher_score():
    plr = filled([0.5, 2.0, 1.0], [1, 3, 2], clock=5, temperature=0.5, staleness=0.2, regret="pvl")
    lowest = int(np.argmin(plr.probabilities()))
    assert lowest == 0                                       # rank 3, P = 0.8 * 4/49 + 0.2 * 4/9
    plr.playing[0].append((BASE + 50, False))
    plr.update(np.array([[1.0]]), np.zeros((1, 1)), np.array([[0.4]]))   # below 0.5: stays out
    assert BASE + 50 not in plr.slot and plr.size == 3
    plr.playing[0].append((BASE + 51, False))
    plr.update(np.array([[1.0]]), np.zeros((1, 1)), np.array([[0.6]]))   # above: replaces slot 0
    assert plr.slot.get(BASE + 51) == 0 and BASE not in plr.slot and plr.scores[0] == pytest.approx(0.6)


def test_replayed_levels_are_pure_functions_of_task_split_and_seed():
    """A curriculum over CheeseCorner at alpha 0.5 (exact regret, the true-oracle played): every
    episode's first observation is the level `task.levels` makes from its seed alone, a seed
    replayed gives the identical level, disambiguating or not, and every seed is a training seed."""
    import gymnasium as gym

    alpha = 0.5
    plr = PLR(num_envs=32, seed=1, regret="oracle", oracle=OracleReturns("CheeseCorner", alpha),
              capacity=8, min_fill=0.5, replay_prob=0.5)
    envs = gym.make_vec("proxybench/CheeseCorner-train-v1", num_envs=32, alpha=alpha, level_source=plr)
    obs, _ = envs.reset(seed=0)
    starts = [(plr.playing[r][-1], obs[r]) for r in range(32)]
    rng, steps = np.random.default_rng(0), 8
    dones, returns = np.zeros((steps, 32)), np.zeros((steps, 32))
    for t in range(640):
        obs, _, terminated, truncated, info = envs.step(rng.integers(0, 5, 32))
        done = terminated | truncated
        dones[t % steps], returns[t % steps] = done, np.where(done, info.get("true_return", 0.0), 0.0)
        starts += [(plr.playing[r][-1], obs[r]) for r in np.flatnonzero(done)]
        if t % steps == steps - 1:
            plr.update(dones, returns, np.zeros((steps, 32)))
    task = get_task("CheeseCorner", alpha=alpha)
    seen: dict[int, np.ndarray] = {}
    for (seed, _), first in starts:
        assert BASE <= seed < TRAINING_SEEDS[1]
        level = task.levels("train", np.array([seed], np.uint64))
        np.testing.assert_array_equal(first, G.observe(level)[0])
        if seed in seen:
            np.testing.assert_array_equal(first, seen[seed])
        seen[seed] = first
    replayed = [seed for (seed, again), _ in starts if again]
    assert len(replayed) > 20 and plr.replayed == len(replayed)
    disambiguating = task.levels("train", np.array(sorted(set(replayed)), np.uint64))["disambiguating"]
    assert disambiguating.any() and not disambiguating.all()   # alpha > 0: both kinds replayed


def test_average_and_normalise_ignore_the_steps_of_weight_zero():
    values = torch.tensor([1.0, 5.0, 3.0, -2.0], requires_grad=True)
    weight = torch.tensor([1.0, 0.0, 1.0, 0.0])
    assert average(values, weight).item() == pytest.approx(2.0)
    average(values, weight).backward()
    assert values.grad.tolist() == [0.5, 0.0, 0.5, 0.0]      # no gradient from evaluation-only steps
    other = values.detach().clone()
    other[[1, 3]] = torch.tensor([100.0, -7.0])              # what weight-0 steps hold does not matter
    a, b = normalise(values.detach(), weight), normalise(other, weight)
    assert torch.equal(a[[0, 2]], b[[0, 2]])
    assert a[[0, 2]].tolist() == pytest.approx([-2 ** -0.5, 2 ** -0.5], rel=1e-5)   # mean 2, std sqrt(2)
    plain = torch.tensor([1.0, 3.0, 2.0])
    assert torch.equal(average(plain, None), plain.mean())
    assert torch.allclose(normalise(plain, torch.ones(3)), normalise(plain, None))


class Everything:
    """A level choice that passes the env's stream on and marks every episode with one weight."""

    def __init__(self, num_envs, weight):
        self.weight, self.settings, self.updates = np.full(num_envs, float(weight)), {"weight": weight}, 0

    def __call__(self, rows, stream):
        return stream(len(rows))

    def update(self, dones, returns, advantages):
        self.updates += 1


def test_evaluation_only_steps_take_no_gradient(tmp_path):
    """Every episode evaluation-only: the trained network is the initial one, to the bit. Every
    episode weight 1: the weighted path trains as ppo's own does (to float rounding)."""
    steps = 64 * 16 * 3
    choice = Everything(64, 0.0)
    path = ppo.train("CoinEnd", 2, steps=steps, out=tmp_path / "zero", progress=False, config=SMALL, levels=choice)
    torch.manual_seed(2)
    initial = {k: v.half() for k, v in ppo.ActorCritic(ppo.NET).state_dict().items()}
    trained = torch.load(path, weights_only=True)
    assert trained["levels"] == {"weight": 0.0} and choice.updates == 3
    assert all(torch.equal(initial[k], trained["state_dict"][k]) for k in initial)
    rows = list(csv.DictReader((tmp_path / "zero" / "CoinEnd-seed2.csv").open()))
    assert len(rows) == 3 and rows[0]["entropy"] == ""       # no minibatch was trained on
    ones = ppo.train("CoinEnd", 2, steps=steps, out=tmp_path / "one", progress=False, config=SMALL,
                     levels=Everything(64, 1.0))
    plain = ppo.train("CoinEnd", 2, steps=steps, out=tmp_path / "plain", progress=False, config=SMALL)
    a, b = (torch.load(p, weights_only=True)["state_dict"] for p in (ones, plain))
    assert all(torch.allclose(a[k].float(), b[k].float(), atol=2e-3) for k in a)


@pytest.mark.parametrize("regret", ["oracle", "pvl"])
def test_ppo_plr_trains_writes_weights_and_acts(tmp_path, regret):
    from baselines.ppo_plr.agent import make_agent
    from baselines.ppo_plr.train import train

    path = train("SpuriousCue", 0, alpha=0.1, steps=64 * 16 * 4, out=tmp_path, progress=False, regret=regret,
                 config=SMALL, plr=TINY_PLR)
    saved = torch.load(path, weights_only=True)
    assert path == tmp_path / "SpuriousCue-seed0.pt" and saved["alpha"] == 0.1
    assert saved["levels"]["regret"] == regret and saved["levels"]["capacity"] == 16
    agent = make_agent("SpuriousCue", 0, weights=tmp_path)
    actions = agent.act(np.zeros((3, G.SIZE, G.SIZE, 3), np.uint8) + G.cell("wall", "grey"), np.ones(3, bool))
    assert actions.shape == (3,) and actions.dtype.kind == "i"


@pytest.mark.parametrize("task, regret, cut", [("SpuriousCue", "oracle", 3),
                                               ("MonsterShields", "pvl", 4)])   # 25-step train episodes
def test_a_resumed_ppo_plr_run_ends_with_the_weights_of_an_uninterrupted_one(tmp_path, task, regret, cut):
    """The curriculum (buffer, scores, clock, its generator, the rows' pending episodes) rides in
    the checkpointed env, so a resumed run replays the same levels and ends with the same weights."""
    from baselines.ppo_plr.train import train

    kwargs = dict(alpha=0.2, steps=64 * 16 * 6, progress=False, regret=regret, config=SMALL, plr=TINY_PLR)
    whole = train(task, 1, out=tmp_path / "whole", **kwargs)
    ckpt = train(task, 1, out=tmp_path / "cut", stop_after=cut, **kwargs)
    state = torch.load(ckpt, weights_only=False)
    import pickle
    plr = pickle.loads(state["envs"]).level_source
    assert plr.replayed > 0 and plr.size > 0                 # replay had begun before the cut
    resumed = train(task, 1, out=tmp_path / "cut", **kwargs)
    a, b = (torch.load(p, weights_only=True)["state_dict"] for p in (whole, resumed))
    assert all(torch.equal(a[k], b[k]) for k in a)
    with pytest.raises(RuntimeError, match="another run"):   # another regret is another run
        train(task, 1, out=tmp_path / "other", stop_after=1, **kwargs)
        train(task, 1, out=tmp_path / "other", **{**kwargs, "regret": "oracle" if regret == "pvl" else "pvl"})


def test_the_mitigation_manifests_declare_track_method_alpha_and_privilege():
    from baselines.ppo_dr import train as dr
    from benchmark.submission.manifest import load_manifest

    manifests = {f: load_manifest(ROOT / "baselines" / f) for f in ("ppo_dr", "ppo_plr", "ppo_plr_pvl")}
    ppo_manifest = load_manifest(ROOT / "baselines" / "ppo")
    for folder, m in manifests.items():
        assert m.track == "open" and m.method and m.alpha == dr.ALPHA
        assert m.env_steps == ppo_manifest.env_steps and m.seeds == ppo_manifest.seeds
        assert ("not yet chosen" in m.method) == (not dr.ALPHA_CHOSEN)
        weights = ROOT / "baselines" / folder / "weights"            # the runs of the tasks it covers
        made = sorted(p.name for p in weights.glob("*.pt")) if weights.exists() else []
        assert made == sorted(f"{t}-seed{s}.pt" for t in m.tasks for s in m.seeds)
    assert manifests["ppo_plr"].privileged and "true-oracle" in manifests["ppo_plr"].privileged[0]
    assert not manifests["ppo_plr_pvl"].privileged and not manifests["ppo_dr"].privileged
    raw = yaml.safe_load((ROOT / "baselines" / "ppo_dr" / "submission.yaml").read_text())
    assert raw["training"]["alpha"] == dr.ALPHA


def test_ppo_dr_is_ppo_at_its_declared_alpha_and_refuses_the_placeholder(monkeypatch, tmp_path):
    from baselines.ppo_dr import train as dr
    from baselines.ppo_plr.train import train as plr_train
    from benchmark.training import declared_alpha, train_baseline

    assert declared_alpha("ppo-dr") == dr.ALPHA and declared_alpha("ppo") == 0.0
    if not dr.ALPHA_CHOSEN:
        with pytest.raises(ValueError, match="placeholder"):
            train_baseline("ppo-dr", "CoinEnd", 0, out=tmp_path)            # alpha: the declared one
        with pytest.raises(ValueError, match="placeholder"):
            plr_train("CoinEnd", 0, out=tmp_path)
    with pytest.raises(ValueError, match="train ppo"):
        dr.train("CoinEnd", 0, alpha=0.3, out=tmp_path)
    calls = []
    monkeypatch.setattr(dr, "ALPHA_CHOSEN", True)
    monkeypatch.setattr(ppo, "train", lambda *a, **k: calls.append((a, k)) or tmp_path / "w.pt")
    train_baseline("ppo-dr", "CoinEnd", 0, out=tmp_path)
    (task, seed), kwargs = calls[0]
    assert (task, seed, kwargs["alpha"], kwargs["steps"]) == ("CoinEnd", 0, dr.ALPHA, None)   # steps: ppo.STEPS
