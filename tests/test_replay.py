"""Replays show what was played, with the oracles' targets where the oracles aim: every task
declares targets its oracles reach, a GIF decoded frame by frame has the two outline colours on
the cells a task's own level state names, a replay that would differ from the played episode is
refused, and the command plays a submission sandboxed and answers bad input in one line."""

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from benchmark import grid as G
from benchmark.cli import main
from benchmark.contract.registry import get_task
from benchmark.contract.task import OBJECTIVES
from benchmark.evaluation.references import play_references
from benchmark.evaluation.replay import SCORED_AGAINST, ReplayError, choose, record, replay_episodes
from benchmark.reporting.replays import CAPTION_PX, GAP, HEADER_PX, PER_ROW, frames, write_gif

ROOT = Path(__file__).resolve().parents[1]
SEEDS = np.arange(4, dtype=np.uint64)


def oracle_episodes(task, objective, split="heldout", seeds=SEEDS):
    table, actions = record(task, split, seeds, task.oracle(objective))
    return replay_episodes(task, split, table, actions, play_references(task, split, seeds, names=SCORED_AGAINST))


def test_every_task_outlines_cells_its_oracles_go_to(task_name):
    """On held-out levels each oracle's first targets are there, and its path reaches one of them:
    the outline shows where the oracle is going, computed the way the oracle computes it."""
    task = get_task(task_name)
    for j, objective in enumerate(OBJECTIVES):
        for ep in oracle_episodes(task, objective):
            first = ep.targets[0, j]
            assert first.any(), f"{task_name} level {ep.seed}: no {objective} target at the start"
            visited = first[ep.path[1:, 0], ep.path[1:, 1]]
            assert visited.any(), f"{task_name} level {ep.seed}: the {objective}-oracle never reaches its target"


def test_replayed_oracles_score_as_their_own_references():
    task = get_task("CheeseCorner")
    assert {ep.outcome for ep in oracle_episodes(task, "true")} == {"true_only"}
    assert {ep.outcome for ep in oracle_episodes(task, "proxy")} == {"proxy_only"}


def outlined(image: np.ndarray, tile: int, count: int, rgb, inset: int, scale: int) -> set[tuple[int, int]]:
    """The cells of tile `tile` whose frame, `inset` px in, has colour `rgb` all round."""
    side, cell = G.SIZE * G.TILE * scale, G.TILE * scale
    cols = min(count, PER_ROW)
    top = HEADER_PX + (tile // cols) * (side + CAPTION_PX + GAP)
    left = GAP + (tile % cols) * (side + GAP)
    found = set()
    for row in range(G.SIZE):
        for col in range(G.SIZE):
            y, x = top + row * cell + inset, left + col * cell + inset
            edge = cell - 2 * inset
            ring = [image[y, x + edge // 2], image[y + edge - 1, x + edge // 2],
                    image[y + edge // 2, x], image[y + edge // 2, x + edge - 1]]
            if all(tuple(p) == tuple(rgb) for p in ring):
                found.add((row, col))
    return found


def decoded(path: Path, k: int) -> np.ndarray:
    with Image.open(path) as gif:
        gif.seek(k)
        return np.asarray(gif.convert("RGB"))


@pytest.mark.parametrize("task_name, true_cells, proxy_cells", [
    # The level state names the goals: CoinEnd's coin and its end cell; RedDoor's door and red object.
    ("CoinEnd", lambda lv: G.is_type(lv["grid"], "coin"), lambda lv: G.one_hot_cells(lv["grid"].shape[:3], lv["end"])),
    ("RedDoor", lambda lv: G.is_type(lv["grid"], "door"),
     lambda lv: (lv["grid"][..., 1] == G.COLOR_TO_IDX["red"]) & ~G.is_type(lv["grid"], "wall")),
])
def test_gif_frames_outline_the_goals_the_level_holds(tmp_path, task_name, true_cells, proxy_cells):
    task = get_task(task_name)
    seeds = np.arange(5, dtype=np.uint64)
    rng = np.random.default_rng(0)
    random_walk = lambda obs, first, state: rng.integers(0, 4, len(obs))  # noqa: E731
    table, actions = record(task, "heldout", seeds, random_walk)
    refs = play_references(task, "heldout", seeds, names=SCORED_AGAINST)
    episodes = replay_episodes(task, "heldout", table, actions, refs)
    path = tmp_path / "replay.gif"
    write_gif(path, frames(episodes, "test"))
    levels = task.levels("heldout", seeds)
    image = decoded(path, 0)
    for i in range(len(seeds)):
        want_true = {tuple(c) for c in np.argwhere(true_cells(levels)[i])}
        want_proxy = {tuple(c) for c in np.argwhere(proxy_cells(levels)[i])}
        assert want_true and want_proxy and not want_true & want_proxy
        assert outlined(image, i, len(seeds), G.TARGET_RGB["true"], 0, 1) == want_true, f"level {i}"
        # (the proxy's frame lies one outline inside the cell: both nest on a cell they share)
        assert outlined(image, i, len(seeds), G.TARGET_RGB["proxy"], G.OUTLINE, 1) == want_proxy, f"level {i}"
    # A later frame, composed from the GIF's changed pixels, still holds the goal not yet taken.
    k = 3
    later = decoded(path, k)
    for i, ep in enumerate(episodes):
        if ep.length > k and ep.targets[k, 0].any():
            want = {tuple(c) for c in np.argwhere(ep.targets[k, 0])}
            assert outlined(later, i, len(seeds), G.TARGET_RGB["true"], 0, 1) == want


def test_a_replay_that_differs_from_the_played_episode_is_refused():
    task = get_task("CoinEnd")
    table, actions = record(task, "heldout", SEEDS, task.oracle("true"))
    refs = play_references(task, "heldout", SEEDS, names=SCORED_AGAINST)
    actions[:, :] = G.STAY            # not what was played
    with pytest.raises(ReplayError, match="CoinEnd heldout level 0"):
        replay_episodes(task, "heldout", table, actions, refs)


def test_choose_takes_the_first_episodes_with_the_outcome():
    outcome = np.array(["neither", "proxy_only", "true_only", "proxy_only", "proxy_only"])
    assert choose(outcome, "proxy", 2).tolist() == [1, 3]
    assert choose(outcome, None, 3).tolist() == [0, 1, 2]
    assert choose(outcome, "both", 2).tolist() == []
    with pytest.raises(ValueError, match="unknown outcome"):
        choose(outcome, "truth", 1)


def test_replay_command_plays_a_submission_sandboxed(tmp_path, capsys):
    out = tmp_path / "random.gif"
    assert main(["replay", str(ROOT / "baselines" / "random"), "--task", "CoinEnd", "--out", str(out)]) == 0
    assert "8 episodes" in capsys.readouterr().out
    assert out.stat().st_size < 2 * 1024 * 1024
    with Image.open(out) as gif:
        assert gif.n_frames == 129          # a random walk rarely finds the coin: 128 steps and the start
    still = tmp_path / "still.png"
    assert main(["replay", str(ROOT / "baselines" / "random"), "--task", "SpuriousCue", "--episodes", "2",
                 "--outcome", "neither", "--out", str(still)]) == 0
    assert "neither" in capsys.readouterr().out and Image.open(still).format == "PNG"


@pytest.mark.parametrize("flags, message", [
    (["--task", "CoinEnd", "--out", "x.gif", "--outcome", "truth"], "--outcome must be one of"),
    (["--out", "x.gif"], "needs SUBMISSION, --task and --out"),
    (["--task", "NoSuchTask", "--out", "x.gif"], "unknown task 'NoSuchTask'"),
    (["--task", "CoinEnd", "--out", "x.gif", "--run", "7"], "run 7 is not one of its training seeds"),
])
def test_replay_refuses_bad_input_in_one_line(capsys, flags, message):
    submission = [] if flags[0] == "--out" else [str(ROOT / "baselines" / "random")]
    assert main(["replay", *submission, *flags]) == 1
    err = capsys.readouterr().err.strip()
    assert message in err and len(err.splitlines()) == 1


def test_replay_all_writes_every_baselines_gif_per_task(tmp_path, capsys):
    import shutil

    folder = tmp_path / "baselines" / "random"
    shutil.copytree(ROOT / "baselines" / "random", folder, ignore=shutil.ignore_patterns("__pycache__"))
    manifest = folder / "submission.yaml"
    manifest.write_text(manifest.read_text() + "tasks: [CoinEnd, SpuriousCue]\n")
    unscored = tmp_path / "baselines" / "unscored"        # no results.json: not on the leaderboard, no GIFs
    shutil.copytree(folder, unscored, ignore=shutil.ignore_patterns("results.json"))
    (unscored / "submission.yaml").write_text(manifest.read_text().replace("name: random", "name: unscored"))
    assert main(["replay", "--all", "--root", str(tmp_path), "--episodes", "2"]) == 0
    written = sorted(p.relative_to(tmp_path).as_posix() for p in (tmp_path / "docs").rglob("*.gif"))
    assert written == ["docs/replays/random/CoinEnd.gif", "docs/replays/random/SpuriousCue.gif"]
    assert main(["replay", "--all", "--task", "CoinEnd"]) == 1
