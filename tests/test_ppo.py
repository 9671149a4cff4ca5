"""The PPO baseline (baselines/ppo/ppo.py): advantages against hand-computed values, the clock the
agent counts, a short run that must learn, and a resumed run that must end where an
uninterrupted one does."""

import csv
import dataclasses
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from baselines.ppo.ppo import (ActorCritic, Clock, Config, NovelD, encode, gae,  # noqa: E402
                               load_weights, minibatches, train)
from benchmark import grid as G  # noqa: E402

SMALL = Config(num_envs=64, num_steps=16, minibatch=256, eval_every=10**9, checkpoint_every=1000)


def test_gae_against_hand_computed_values():
    # One level, three steps; the episode ends after step 1. gamma 0.9, lambda 0.8.
    rewards = torch.tensor([[1.0], [0.0], [2.0]])
    values = torch.tensor([[0.5], [0.4], [0.3]])
    dones = torch.tensor([[0.0], [1.0], [0.0]])
    advantages, returns = gae(rewards, values, dones, torch.tensor([0.2]), 0.9, 0.8)
    # t=2: 2 + 0.9*0.2 - 0.3 = 1.88;  t=1: 0 - 0.4 = -0.4 (ended: nothing follows);
    # t=0: (1 + 0.9*0.4 - 0.5) + 0.9*0.8*(-0.4) = 0.86 - 0.288 = 0.572
    assert advantages[:, 0].tolist() == pytest.approx([0.572, -0.4, 1.88])
    assert returns[:, 0].tolist() == pytest.approx([1.072, 0.0, 2.18])


def test_an_episode_out_of_time_ends_its_return_as_a_termination_does():
    """Time-aware PPO: a time-out is an end (the clock input told the agent it was coming)."""
    rewards, values = torch.tensor([[0.0, 0.0]]), torch.tensor([[0.5, 0.5]])
    ended = gae(rewards, values, torch.tensor([[1.0, 0.0]]), torch.tensor([0.8, 0.8]), 0.9, 0.95)[0]
    assert ended[0].tolist() == pytest.approx([-0.5, 0.9 * 0.8 - 0.5])


def test_the_clock_counts_each_rows_steps_from_its_first_flag():
    clock = Clock(max_steps=4)
    assert clock.tick(np.array([True, True])).tolist() == [0.0, 0.0]
    assert clock.tick(np.array([False, False])).tolist() == [0.25, 0.25]
    assert clock.tick(np.array([False, True])).tolist() == [0.5, 0.0]     # row 1 began anew
    assert clock.tick(np.array([False, False])).tolist() == [0.75, 0.25]


def test_the_encoding_puts_the_agent_at_the_centre():
    obs = np.zeros((2, G.SIZE, G.SIZE, 3), np.uint8)
    obs[0, 1, 1] = G.cell("agent", "white")
    obs[1, 11, 3] = G.cell("agent", "white")
    obs[1, 11, 4] = G.cell("ball", "red")
    cells = encode(obs)
    agent = G.OBJECT_TO_IDX["agent"] * len(G.COLOR_TO_IDX) * len(G.STATE_TO_IDX) + G.COLOR_TO_IDX["white"] * len(G.STATE_TO_IDX)
    assert cells.shape == (2, G.SIZE, G.SIZE) and cells.dtype == torch.int16
    assert cells[0, 6, 6] == agent and cells[1, 6, 6] == agent
    assert cells[1, 6, 7] != 0                             # the ball, one cell to the right


def test_a_short_run_learns_the_one_step_task(tmp_path):
    """SpuriousCue (pick the ball, one step) is learned in seconds; a broken gradient, advantage
    or sampling leaves the return where random play has it (about 0.2)."""
    train("SpuriousCue", 0, steps=64 * 16 * 40, out=tmp_path, progress=False, config=SMALL)
    rows = list(csv.DictReader((tmp_path / "SpuriousCue-seed0.csv").open()))
    assert len(rows) == 40
    assert float(rows[0]["mean_true_return"]) < 0.4
    assert float(rows[-1]["mean_true_return"]) > 0.8
    assert float(rows[-1]["T"]) > 0.8                       # measured as the scorer does
    model, clock = load_weights(tmp_path / "SpuriousCue-seed0.pt")
    assert all(p.dtype == torch.float32 for p in model.parameters()) and clock.max_steps == 1
    assert not (tmp_path / "checkpoints" / "SpuriousCue-seed0.ckpt").exists()


# memoryless; with memory (a GRU core); with an exploration bonus (NovelD's networks, mean and visits)
@pytest.mark.parametrize("task, changes", [("CoinEnd", {}), ("FollowGuide", {}), ("KeysChests", {"novelty_coef": 0.1})])
def test_a_resumed_run_ends_with_the_weights_of_an_uninterrupted_one(tmp_path, task, changes):
    steps, config = 64 * 16 * 6, dataclasses.replace(SMALL, **changes)
    whole = train(task, 1, steps=steps, out=tmp_path / "whole", progress=False, config=config)
    ckpt = train(task, 1, steps=steps, out=tmp_path / "cut", progress=False, config=config, stop_after=3)
    assert ckpt.exists() and not (tmp_path / "cut" / f"{task}-seed1.pt").exists()
    resumed = train(task, 1, steps=steps, out=tmp_path / "cut", progress=False, config=config)
    a, b = (torch.load(p, weights_only=True)["state_dict"] for p in (whole, resumed))
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)
    assert any(k.startswith("core.") for k in a) == (task == "FollowGuide")
    if task != "CoinEnd":
        return
    rows = list(csv.DictReader((tmp_path / "cut" / "CoinEnd-seed1.csv").open()))
    assert [r["update"] for r in rows] == [str(u) for u in range(1, 7)]
    with pytest.raises(RuntimeError, match="another run"):   # a checkpoint is not reused by another run
        train("CoinEnd", 1, steps=steps, out=tmp_path / "other", progress=False, config=SMALL, stop_after=1)
        train("CoinEnd", 1, steps=2 * steps, out=tmp_path / "other", progress=False, config=SMALL)


def test_proxybench_train_ppo_writes_where_out_says(tmp_path):
    from benchmark.training import train_baseline

    path = train_baseline("ppo", "SpuriousCue", 2, steps=64 * 256, out=tmp_path, progress=False)
    assert path == tmp_path / "SpuriousCue-seed2.pt" and path.exists()
    assert (tmp_path / "SpuriousCue-seed2.csv").exists()
    params = sum(p.numel() for p in load_weights(path)[0].parameters())
    assert Path(path).stat().st_size < 2 * params + 16_000   # float16: two bytes a parameter


def test_a_network_with_memory_replays_a_segment_as_it_acted():
    """The update replays whole columns from their starting memory (`unroll`); it must compute
    what the rollout's step by step computed, episode starts included (memory zeroed there)."""
    torch.manual_seed(0)
    model = ActorCritic("e4-c8s2-f16-r8")
    steps, n = 5, 3
    cells = torch.randint(0, 720, (steps, n, G.SIZE, G.SIZE), dtype=torch.int16)
    clock = torch.rand(steps, n)
    first = torch.tensor([[1, 1, 0], [0, 0, 0], [0, 1, 0], [0, 0, 1], [1, 0, 0]], dtype=torch.float32)
    start = torch.randn(n, 8)
    memory, logits, values = start, [], []
    for t in range(steps):
        lt, vt, memory = model.step(cells[t], clock[t], first[t], memory)
        logits.append(lt)
        values.append(vt)
    replay_logits, replay_values, end = model.unroll(cells, clock, first, start)
    assert torch.allclose(replay_logits, torch.cat(logits), atol=1e-6)
    assert torch.allclose(replay_values, torch.cat(values), atol=1e-6)
    assert torch.allclose(end, memory, atol=1e-6)                 # where a following segment starts
    # Memory matters and is cut at an episode start: column 2 began anew at t=3, so from there
    # its outputs do not depend on the memory it started the segment with.
    other_logits, _, _ = model.unroll(cells, clock, first, start + 1.0)
    per_step = lambda x: x.reshape(steps, n, -1)                                  # noqa: E731
    assert not torch.allclose(per_step(other_logits)[:3, 2], per_step(replay_logits)[:3, 2])
    assert torch.allclose(per_step(other_logits)[3:, 2], per_step(replay_logits)[3:, 2])


def test_minibatches_cover_the_rollout_once_per_epoch():
    generator = torch.Generator().manual_seed(0)
    for recurrent in (False, True):
        batches = minibatches(recurrent, envs=8, steps=4, size=8, generator=generator)
        every = torch.cat([indices for indices, _ in batches])
        assert sorted(every.tolist()) == list(range(32))
        if recurrent:       # whole columns: each env's 4 steps together, in order
            for indices, columns in batches:
                assert indices.reshape(4, -1).tolist() == [[t * 8 + c for c in columns.tolist()] for t in range(4)]


def test_noveld_pays_once_an_episode_for_crossing_into_what_is_rare():
    torch.manual_seed(0)
    novelty = NovelD(dataclasses.replace(SMALL, novelty_coef=1.0, novelty_update_share=1.0), envs=1, steps=4)
    obs = np.zeros((2, G.SIZE, G.SIZE, 3), np.uint8)
    obs[:, 6, 6] = G.cell("agent", "white")
    obs[1, 6, 8] = G.cell("key", "yellow")                 # the rare sight
    common, rare = encode(obs[:1]), encode(obs[1:])
    generator = torch.Generator().manual_seed(0)
    for _ in range(100):
        novelty.learn(common.repeat(256, 1, 1), generator)
    assert float(novelty.error(rare)) > 10 * float(novelty.error(common))
    no, yes = np.array([False]), np.array([True])
    novelty.observe(0, common, rare, rare, no)       # into the rare sight: paid
    novelty.observe(1, rare, common, common, no)     # back to the common one: less novel, not paid
    novelty.observe(2, common, rare, rare, no)       # the rare sight again, same episode: not paid
    novelty.observe(3, common, rare, common, yes)    # the episode ends; a new one starts on `common`
    assert novelty.first[:, 0].tolist() == [1, 1, 0, 0]
    bonus = novelty.bonus()[:, 0]
    assert float(bonus[0]) > 1 and float(bonus[1]) == 0 and float(bonus[2]) == 0
    assert novelty.seen[0] == {int((common.reshape(-1).long() * novelty.code).sum())}   # the new episode's view
