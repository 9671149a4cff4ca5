"""The committed figures are what the code produces, and a change of what determines a figure
(a task's rewards, a reference policy, the scoring) makes the committed figures stale, loudly."""

import json
import os
import shutil
from pathlib import Path

import numpy as np
import pytest

from benchmark.cli import main
from benchmark.contract.registry import get_task
from benchmark.evaluation.cache import reference_tables
from benchmark.evaluation.fingerprint import differences, task_fingerprint
from benchmark.evaluation.results import SCHEMA_VERSION
from benchmark.evaluation.seeds import public_seeds
from benchmark.reporting.leaderboard import collect
from benchmark.reporting.staleness import current_fingerprints, results_staleness, stale_files
from benchmark.submission.provenance import REPRODUCED, reproduced_entries
from benchmark.submission.score import score_submission

ROOT = Path(__file__).resolve().parents[1]

# The entries that the leaderboard marks "reproduced", with the tasks each is rescored on
# (baselines/reproduced.yaml): rescored in-process from the committed code and weights. Deep
# agents run single-threaded on CPU.
REPRODUCED_ENTRIES = reproduced_entries(ROOT)


@pytest.mark.parametrize("folder", sorted(REPRODUCED_ENTRIES))
def test_committed_results_are_what_the_code_gives(folder):
    tasks = REPRODUCED_ENTRIES[folder]
    if folder in ("baselines/ppo", "baselines/ppo_sb3", "baselines/bc") and not os.environ.get("CI"):
        pytest.importorskip("torch")   # in CI a missing torch fails: the row says CI rescored it
    committed = json.loads((ROOT / folder / "results.json").read_text())
    assert committed["schema_version"] == SCHEMA_VERSION
    rescored = score_submission(ROOT / folder, tasks, progress=False, sandbox=False)
    for task in tasks:
        assert committed["tasks"][task]["status"] == "ok", f"{folder}: {task} was not scored ok"
        assert rescored["tasks"][task] == committed["tasks"][task], (
            f"{folder}/results.json: {task} differs from a rescoring; run `proxybench score {folder}`")
    assert rescored["submission"] == committed["submission"]


def test_every_row_marked_reproduced_is_rescored_above():
    marked = {Path(e.source).parent.as_posix() for e in collect(ROOT) if e.kind == REPRODUCED}
    assert marked == set(REPRODUCED_ENTRIES)
    # Every baseline is reproduced: none of them may drift into an unchecked row.
    assert {f"baselines/{p.parent.name}" for p in ROOT.glob("baselines/*/results.json")} <= marked


def test_nothing_committed_is_stale():
    assert stale_files(ROOT) == []


def reddoor_with_doubled_reward(monkeypatch):
    cls = type(get_task("RedDoor"))
    original = cls.step

    def step(self, state, actions, t):
        true_r, proxy_r, terminated = original(self, state, actions, t)
        return true_r * 2, proxy_r, terminated
    monkeypatch.setattr(cls, "step", step)


def test_a_patched_reward_makes_the_check_fail_naming_the_task(monkeypatch, capsys):
    before = task_fingerprint(get_task("RedDoor"))
    reddoor_with_doubled_reward(monkeypatch)
    assert "dynamics changed" in differences(before, task_fingerprint(get_task("RedDoor")))
    assert main(["leaderboard", "--check", "--root", str(ROOT)]) == 1
    err = capsys.readouterr().err
    assert "baselines/random/results.json: RedDoor: dynamics changed" in err
    assert "rescore with `proxybench score baselines/random`" in err
    assert "CoinEnd" not in err                       # the other tasks are as they were


def test_a_patched_reference_policy_misses_the_cache(monkeypatch, tmp_path):
    monkeypatch.setenv("PROXYBENCH_CACHE", str(tmp_path))
    task = get_task("CoinEnd")
    seeds = public_seeds(task, "heldout", 30)
    before = reference_tables(task, "heldout", seeds)
    assert len(list(tmp_path.iterdir())) == 1
    cls, original = type(task), type(task).oracle

    def oracle(self, objective):   # the proxy-oracle now stands still; the version stays
        return (lambda obs, first, state: np.full(len(obs), 4)) if objective == "proxy" else original(self, objective)
    monkeypatch.setattr(cls, "oracle", oracle)
    after = reference_tables(task, "heldout", seeds)
    assert len(list(tmp_path.iterdir())) == 2         # a new key: the old entry was not served
    assert not after["proxy-oracle"].equals(before["proxy-oracle"])
    assert after["true-oracle"].equals(before["true-oracle"])


def test_results_of_an_older_schema_are_stale_not_a_crash(tmp_path, capsys):
    folder = tmp_path / "baselines" / "old"
    folder.mkdir(parents=True)
    old = json.loads((ROOT / "baselines" / "random" / "results.json").read_text())
    del old["schema_version"]
    for block in old["tasks"].values():
        block.pop("fingerprint")
    (folder / "results.json").write_text(json.dumps(old))
    current = current_fingerprints()
    assert set(results_staleness(old, current)) == set(old["tasks"])
    assert main(["leaderboard", "--root", str(tmp_path), "--print"]) == 0
    assert "stale (results schema 1, now 2)" in capsys.readouterr().out
    assert main(["leaderboard", "--check", "--root", str(tmp_path)]) == 1
    assert "baselines/old/results.json: RedDoor: results schema 1" in capsys.readouterr().err


def test_rescoring_unchanged_results_leaves_the_file_alone(tmp_path):
    folder = tmp_path / "random"
    shutil.copytree(ROOT / "baselines" / "random", folder)
    (folder / "results.json").unlink()
    args = ["score", str(folder), "--tasks", "CoinEnd", "--episodes", "20", "--in-process", "--quiet"]
    assert main(args) == 0
    first = (folder / "results.json").read_bytes()
    stamp = (folder / "results.json").stat().st_mtime_ns
    assert main(args) == 0
    assert (folder / "results.json").read_bytes() == first           # the timestamp too
    assert (folder / "results.json").stat().st_mtime_ns == stamp
