"""Leaderboard rows that cannot be forged: a results.json is checked against its own raw
statistics, signed official results verify only on the code and figures that were signed, and
rows that nobody stands behind are shown apart. Every key here is made in a temporary folder."""

import json
import re
import shutil
from pathlib import Path

import pytest

from benchmark.cli import main
from benchmark.contract.registry import registry
from benchmark.evaluation.results import write_json_atomic
from benchmark.reporting.leaderboard import LeaderboardError, collect, render
from benchmark.submission.provenance import REPRODUCED, SELF_REPORTED, VERIFIED
from benchmark.submission.signing import (SigningError, canonical_bytes, generate_key, load_private_key,
                                          load_trusted_keys, sign_results)

ROOT = Path(__file__).resolve().parents[1]
TASKS = ["CoinEnd", "RedDoor"]
EPISODES = "20"
AGENT = '''import numpy as np


class Up:
    def act(self, obs, first):
        return np.zeros(len(obs), dtype=np.int64)   # action 0: up, always


def make_agent(task_id, seed):
    return Up()
'''
MANIFEST = '''name: up-agent
authors: [A. Newcomer]
description: moves up, whatever it sees
entry_point: agent.py:make_agent
track: standard
training:
  splits: [train]
  alpha: 0.0
  env_steps: 0
  seeds: [0]
'''
ENTRY = "submissions/up-agent/results.json"


@pytest.fixture(scope="module")
def scored(tmp_path_factory) -> Path:
    """A submission folder with the trivial agent and its honest results on TASKS."""
    folder = tmp_path_factory.mktemp("scored") / "up-agent"
    folder.mkdir()
    (folder / "agent.py").write_text(AGENT)
    (folder / "submission.yaml").write_text(MANIFEST)
    assert main(["score", str(folder), "--tasks", ",".join(TASKS), "--episodes", EPISODES, "--in-process",
                 "--quiet"]) == 0
    return folder


@pytest.fixture
def root(tmp_path, scored) -> Path:
    """A repository: the random baseline, listed as reproduced, and the trivial agent's folder."""
    shutil.copytree(ROOT / "baselines" / "random", tmp_path / "baselines" / "random")
    (tmp_path / "baselines" / "reproduced.yaml").write_text("baselines/random: [RedDoor]\n")
    shutil.copytree(scored, tmp_path / "submissions" / "up-agent")
    (tmp_path / "keys").mkdir()
    return tmp_path


@pytest.fixture
def key(tmp_path_factory):
    """(private key file, public key file) made by `proxybench keygen`, outside any repository."""
    out = tmp_path_factory.mktemp("maintainer") / "keys"
    assert main(["keygen", "--out", str(out), "--holder", "Test Maintainer"]) == 0
    private, = out.glob("*.key")
    public, = out.glob("*.yaml")
    return private, public


def read(root: Path) -> dict:
    return json.loads((root / ENTRY).read_text())


def write(root: Path, data: dict) -> None:
    write_json_atomic(root / ENTRY, data)


def check_fails(root: Path, capsys) -> str:
    """`leaderboard --check` on root fails; its error lines."""
    assert main(["leaderboard", "--check", "--root", str(root)]) == 1
    return capsys.readouterr().err


def page(root: Path) -> str:
    tasks = {name: cls for name, cls in registry().items() if name in TASKS}
    return render(collect(root), {}, tasks)


def kinds(root: Path) -> dict[str, str]:
    return {e.label: e.kind for e in collect(root)}


def test_honest_results_are_consistent_and_self_reported(root):
    assert kinds(root) == {"random": REPRODUCED, "up-agent": SELF_REPORTED}


def test_a_hand_edited_results_file_is_refused_naming_file_task_and_field(root, capsys):
    # As a new user did it: every task says CG = OG = H = T = 1.00 and robust; the raw statistics
    # and the suite block still say what the agent did.
    data = read(root)
    for block in data["tasks"].values():
        for name in ("capability_generalization", "objective_generalization", "heldout_score", "train_score"):
            block[name]["value"] = 1.0
        block["quadrant"] = "robust"
    write(root, data)
    with pytest.raises(LeaderboardError) as refused:
        collect(root)
    line, = str(refused.value).splitlines()
    assert line.startswith(f"{ENTRY}: CoinEnd: capability_generalization: stored 1.0, recomputed ")
    assert "from splits.heldout" in line and "more)" in line
    err = check_fails(root, capsys)
    assert f"proxybench: error: {ENTRY}: CoinEnd: capability_generalization" in err


def test_a_suite_block_that_disagrees_with_its_tasks_is_refused(root):
    data = read(root)
    data["suite"]["quadrants"] = {"robust": 2, "misgeneralized": 0, "incapable": 0}
    write(root, data)
    with pytest.raises(LeaderboardError, match=rf"{ENTRY}: suite: quadrants.robust: stored 2, recomputed 0 "):
        collect(root)


def coherent_forgery(data: dict) -> dict:
    """Every field edited to agree with every other: perfect raw statistics on both splits, the
    figures, quadrants and suite block they imply (worked out by hand, not by the code under test)."""
    perfect = {"value": 1.0, "ci_low": 1.0, "ci_high": 1.0}
    for block in data["tasks"].values():
        for split in ("train", "heldout"):
            block["splits"][split].update(c=1.0, h=1.0, c_random=0.1, h_random=0.1)
        for name in ("capability_generalization", "objective_generalization", "heldout_score", "train_score"):
            block[name] = dict(perfect)
        block["misgeneralization"] = {"value": 0.0, "ci_low": 0.0, "ci_high": 0.0}
        block["quadrant"] = "robust"
    n = len(data["tasks"])
    for name in ("capability_generalization", "heldout_score", "train_score"):
        data["suite"][name] = dict(perfect)
    data["suite"]["objective_generalization"] = {**perfect, "tasks": n}
    data["suite"]["misgeneralization"] = {"value": 0.0, "ci_low": 0.0, "ci_high": 0.0}
    data["suite"]["quadrants"] = {"robust": n, "misgeneralized": 0, "incapable": 0}
    return data


def test_a_coherent_forgery_lands_only_as_self_reported(root):
    write(root, coherent_forgery(read(root)))
    assert kinds(root) == {"random": REPRODUCED, "up-agent": SELF_REPORTED}
    ranked, apart = page(root).split("### Self-reported (not ranked)")
    assert re.search(r"\| 1 +\| random +\|[^|]*\| reproduced", ranked) and "up-agent" not in ranked   # H = 1.00: not ranked
    assert re.search(r"\| +\| up-agent +\|[^|]*\| self-reported +\|", apart)
    assert re.search(r"\| up-agent \(self-reported\) +\| 1.00 \[1.00, 1.00\]", apart.split("### CoinEnd")[1])


def sign(root: Path, private: Path) -> None:
    write(root, sign_results(read(root), load_private_key(private)))


def test_a_signed_file_verifies_and_fails_after_a_byte_of_code_or_a_figure_changes(root, key, capsys):
    private, public = key
    shutil.copy(public, root / "keys")
    folder = root / "submissions" / "up-agent"
    # The official path, but on public seeds: the CLI scores and signs.
    assert main(["score", str(folder), "--tasks", ",".join(TASKS), "--episodes", EPISODES, "--in-process",
                 "--quiet", "--sign", str(private)]) == 0
    signed = read(root)
    assert signed["signature"]["key_id"] == public.stem and signed["signature"]["algorithm"] == "ed25519"
    entry, = [e for e in collect(root) if e.label == "up-agent"]
    assert entry.kind == VERIFIED and entry.backing == f"signed by Test Maintainer (key {public.stem})"
    ranked = page(root).split("### Self-reported")[0]
    assert re.search(r"\| up-agent +\|[^|]*\| verified +\|", ranked)

    code = (folder / "agent.py").read_bytes()
    (folder / "agent.py").write_bytes(code.replace(b"always", b"alwayz"))         # one byte, in a comment
    err = check_fails(root, capsys)
    assert f"{ENTRY}: submission.content_hash: the folder's content changed since it was signed" in err
    (folder / "agent.py").write_bytes(code)
    assert collect(root)                                                           # as signed again

    data = read(root)
    data["tasks"]["CoinEnd"]["capability_generalization"]["ci_high"] += 0.0001   # not recomputable
    write(root, data)
    err = check_fails(root, capsys)
    assert f"{ENTRY}: the signature by key {public.stem} (Test Maintainer) does not verify" in err


def test_the_official_path_private_seeds_signed(root, key, tmp_path):
    private, public = key
    shutil.copy(public, root / "keys")
    salt = tmp_path / "salt"
    salt.write_text("a secret of the maintainers\n")
    salt.chmod(0o600)
    folder = root / "submissions" / "up-agent"
    assert main(["score", str(folder), "--tasks", ",".join(TASKS), "--episodes", EPISODES, "--in-process",
                 "--quiet", "--seed-set", "private", "--salt-file", str(salt), "--sign", str(private)]) == 0
    assert read(root)["seed_set"]["name"] == "private"
    entry, = [e for e in collect(root) if e.label == "up-agent"]
    assert entry.kind == VERIFIED
    assert re.search(r"\| up-agent +\|[^|]*\| verified +\|.*\| signed by Test Maintainer \(key \w+\); private held-out seeds",
                     page(root))


def test_a_signed_point_value_edited_coherently_still_fails(root, key):
    private, public = key
    shutil.copy(public, root / "keys")
    sign(root, private)
    write(root, {**coherent_forgery(read(root)), "signature": read(root)["signature"]})
    with pytest.raises(LeaderboardError, match="does not verify"):
        collect(root)


def test_results_signed_by_an_unknown_key_are_refused(root, key, capsys):
    private, _ = key                                  # its public key is not in root/keys
    sign(root, private)
    err = check_fails(root, capsys)
    assert f"{ENTRY}: signed by key " in err and "which is not among the trusted keys in keys/" in err


def test_the_signature_covers_content_not_layout(root, key):
    # Any serialisation of the same results verifies: the canonical form sorts keys, drops spaces.
    private, public = key
    shutil.copy(public, root / "keys")
    sign(root, private)
    data = read(root)
    shuffled = dict(reversed(list(data.items())))
    (root / ENTRY).write_text(json.dumps(shuffled, indent=None, ensure_ascii=True))
    assert canonical_bytes(shuffled) == canonical_bytes(data)
    assert kinds(root)["up-agent"] == VERIFIED


def test_rescoring_and_signing_again_leaves_the_file_alone(root, key, capsys):
    private, _ = key
    folder = root / "submissions" / "up-agent"
    args = ["score", str(folder), "--tasks", ",".join(TASKS), "--episodes", EPISODES, "--in-process", "--quiet"]
    assert main(args + ["--sign", str(private)]) == 0
    first = (folder / "results.json").read_bytes()
    assert main(args + ["--sign", str(private)]) == 0
    assert (folder / "results.json").read_bytes() == first
    capsys.readouterr()
    assert main(args) == 0                                     # unsigned now, and said so
    assert "was signed and these results are not (no --sign)" in capsys.readouterr().err
    assert "signature" not in read(root)


def test_keygen_keeps_the_private_key_private_and_out_of_repositories(tmp_path, key):
    private, public = key
    assert private.stat().st_mode & 0o777 == 0o600
    assert load_trusted_keys(public.parent)[public.stem].holder == "Test Maintainer"
    checkout = tmp_path / "checkout"
    (checkout / ".git").mkdir(parents=True)
    with pytest.raises(SigningError, match="inside the git repository"):
        generate_key(checkout / "keys", "Someone")
    assert not (checkout / "keys").exists()
    private_path, _ = generate_key(checkout / "keys", "Someone", allow_in_repository=True)   # when asked
    assert private_path.stat().st_mode & 0o777 == 0o600
    private_path.chmod(0o644)
    with pytest.raises(SigningError, match="readable or writable by others"):
        load_private_key(private_path)


def test_a_key_file_must_hold_the_key_it_names(tmp_path, key):
    _, public = key
    text = public.read_text()
    other = tmp_path / "keys"
    other.mkdir()
    wrong_id = "abcdef0123456789"
    (other / f"{wrong_id}.yaml").write_text(text.replace(public.stem, wrong_id))
    with pytest.raises(SigningError, match=rf"{wrong_id}.yaml: field 'key_id': the key's id is {public.stem}"):
        load_trusted_keys(other)


def test_a_reproduced_folder_whose_code_changed_is_an_error(root, capsys):
    (root / "baselines" / "random" / "agent.py").write_text("# changed\n", encoding="utf-8")
    err = check_fails(root, capsys)
    assert "baselines/random/results.json: submission.content_hash: the folder's content changed since it " \
           "was scored" in err
