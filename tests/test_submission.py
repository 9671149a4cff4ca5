"""Manifest validation: every error names the file and the field."""


import pytest

from benchmark.submission.manifest import ManifestError, content_hash, load_agent_factory, load_manifest

GOOD = """\
name: my-agent
authors: [Ada Lovelace]
description: one paragraph
entry_point: agent.py:make_agent
track: standard
training:
  splits: [train]
  alpha: 0.0
  env_steps: 1000
  seeds: [0, 1]
"""
AGENT = "def make_agent(task_id, seed):\n    return None\n"


def write(tmp_path, manifest=GOOD, agent=AGENT):
    (tmp_path / "submission.yaml").write_text(manifest)
    if agent is not None:
        (tmp_path / "agent.py").write_text(agent)
    return tmp_path


def test_good_manifest_loads(tmp_path):
    m = load_manifest(write(tmp_path))
    assert (m.name, m.track, m.seeds, m.alpha) == ("my-agent", "standard", (0, 1), 0.0)
    assert callable(load_agent_factory(m))


@pytest.mark.parametrize("old,new,field", [
    ("name: my-agent", "name: My Agent", "name"),
    ("authors: [Ada Lovelace]", "authors: []", "authors"),
    ("track: standard", "track: gold", "track"),
    ("alpha: 0.0", "alpha: 2", "training.alpha"),
    ("env_steps: 1000", "env_steps: many", "training.env_steps"),
    ("seeds: [0, 1]", "seeds: [0, 0]", "training.seeds"),
    ("splits: [train]", "splits: [test]", "training.splits"),
    ("entry_point: agent.py:make_agent", "entry_point: ../agent.py:make_agent", "entry_point"),
    ("entry_point: agent.py:make_agent", "entry_point: missing.py:make_agent", "entry_point"),
    ("description: one paragraph\n", "", "description"),
    ("track: standard", "track: standard\ncolour: blue", "colour"),
    ("alpha: 0.0", "alpha: 0.1", "track"),
])
def test_errors_name_file_and_field(tmp_path, old, new, field):
    write(tmp_path, GOOD.replace(old, new))
    with pytest.raises(ManifestError) as err:
        load_manifest(tmp_path)
    message = str(err.value)
    assert "submission.yaml" in message and f"field '{field}'" in message
    assert "\n" not in message


def test_open_track_allows_alpha(tmp_path):
    write(tmp_path, GOOD.replace("alpha: 0.0", "alpha: 0.1").replace("track: standard", "track: open"))
    assert load_manifest(tmp_path).alpha == 0.1


def test_yaml_syntax_error_and_missing_file(tmp_path):
    with pytest.raises(ManifestError, match="missing"):
        load_manifest(tmp_path)
    write(tmp_path, "name: [unclosed\n")
    with pytest.raises(ManifestError, match="not valid YAML"):
        load_manifest(tmp_path)


def test_entry_point_problems(tmp_path):
    write(tmp_path, agent="raise RuntimeError('boom')\n")
    with pytest.raises(ManifestError, match="field 'entry_point': importing agent.py failed: RuntimeError: boom"):
        load_agent_factory(load_manifest(tmp_path))
    write(tmp_path, agent="x = 1\n")
    with pytest.raises(ManifestError, match="no function 'make_agent'"):
        load_agent_factory(load_manifest(tmp_path))


def test_content_hash_ignores_results_and_tracks_code(tmp_path):
    write(tmp_path)
    h = content_hash(tmp_path)
    (tmp_path / "results.json").write_text("{}")
    (tmp_path / "weights" / "checkpoints").mkdir(parents=True)
    (tmp_path / "weights" / "checkpoints" / "RedDoor-seed0.ckpt").write_text("a run in progress")
    assert content_hash(tmp_path) == h
    (tmp_path / "agent.py").write_text(AGENT + "# changed\n")
    assert content_hash(tmp_path) != h


def test_content_hash_covers_the_baselines_code_it_imports(tmp_path, monkeypatch):
    # a fake installed `baselines` package: agent -> shared.agent -> nets, and an unused module
    root = tmp_path / "site" / "baselines"
    (root / "shared").mkdir(parents=True)
    (root / "__init__.py").write_text("")
    (root / "nets.py").write_text("WIDTH = 8\n")
    (root / "unused.py").write_text("X = 1\n")
    (root / "shared" / "agent.py").write_text("from baselines import nets\n")
    monkeypatch.setattr("benchmark.submission.manifest.baselines_root", lambda: root)
    (tmp_path / "sub").mkdir()
    folder = write(tmp_path / "sub", agent="from baselines.shared.agent import make_agent\n")
    h = content_hash(folder)
    (root / "unused.py").write_text("X = 2\n")
    assert content_hash(folder) == h
    (root / "nets.py").write_text("WIDTH = 16\n")      # two imports away: what the agent runs changed
    assert content_hash(folder) != h


def test_a_manifest_may_cover_part_of_the_suite(tmp_path):
    from benchmark.cli import main

    agent = "import numpy as np\n\nclass A:\n    def act(self, obs, first):\n        return np.zeros(len(obs), np.int64)\n\n" \
            "def make_agent(task_id, seed):\n    return A()\n"
    write(tmp_path, GOOD.replace("track: standard\n", "track: standard\ntasks: [coinend, SpuriousCue]\n"), agent)
    assert load_manifest(tmp_path).tasks == ("CoinEnd", "SpuriousCue")          # the suite's names
    assert main(["score", str(tmp_path), "--episodes", "8", "--in-process", "--quiet"]) == 0
    import json
    assert list(json.loads((tmp_path / "results.json").read_text())["tasks"]) == ["CoinEnd", "SpuriousCue"]
    write(tmp_path, GOOD.replace("track: standard\n", "track: standard\ntasks: [CoinEnd, Nope]\n"), agent)
    with pytest.raises(ManifestError, match="field 'tasks': unknown task 'Nope'"):
        load_manifest(tmp_path)
