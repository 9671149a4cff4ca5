"""The repository keeps its promises: CI runs the README's test command, and the committed
leaderboard and baseline results are what the committed code produces."""

import json
import re
import subprocess
from pathlib import Path

from benchmark.reporting import leaderboard
from benchmark.contract.registry import registry

ROOT = Path(__file__).resolve().parents[1]


def readme_command(heading_line: str) -> str:
    text = (ROOT / "README.md").read_text()
    after = text.split(heading_line, 1)[1]
    return re.search(r"^    (\S.*)$", after, re.M).group(1)


def test_ci_runs_the_readme_test_command():
    command = readme_command("this is what `.ci/run` runs")
    assert command in (ROOT / ".ci" / "run").read_text()


def test_leaderboard_and_its_page_are_up_to_date():
    # The pages' text (the HTML page carries the figures' data) is compared, never the images'
    # bytes, which vary with library versions; the images must be there.
    for name, text in leaderboard.generate_pages(ROOT).items():
        assert (ROOT / name).is_file() and (ROOT / name).read_text() == text, \
            f"{name} is stale: run `proxybench leaderboard`"
    for figure in leaderboard.FIGURES:
        assert (ROOT / figure).is_file(), f"{figure} is missing: run `proxybench leaderboard`"


def test_committed_results_are_at_current_task_versions():
    current = {name: cls.version for name, cls in registry().items()}
    for path in sorted(ROOT.glob("baselines/*/results.json")):
        data = json.loads(path.read_text())
        versions = {name: res["version"] for name, res in data["tasks"].items()}
        assert versions == {name: current[name] for name in versions}, path
        if path.parent.name in ("random", "tabular_q", "objective_planner"):
            assert set(versions) == set(current), f"{path} does not cover the suite"


def test_task_docs_are_up_to_date():
    from benchmark.reporting import docs

    assert (ROOT / "docs" / "tasks.md").read_text() == docs.page(), \
        "docs/tasks.md is stale: run `python -m benchmark.reporting.docs`"
    import numpy as np
    from PIL import Image

    from benchmark.grid import TARGET_RGB

    for name in registry():
        for split in ("train", "heldout"):
            with Image.open(ROOT / "docs" / docs.image_name(name, split)) as picture:
                pixels = np.asarray(picture.convert("RGB"))
            assert min(pixels.shape[:2]) >= 416, f"{name} {split}: a picture a person can read is >= 416 px"
            for objective, rgb in TARGET_RGB.items():   # its target outlined, its oracle's path drawn
                assert (pixels == rgb).all(axis=2).sum() > 200, f"{name} {split}: nothing drawn for the {objective} objective"


def test_every_task_documents_itself_in_the_fixed_layout():
    sections = ["Description", "Objectives", "Splits", "Observation", "Actions", "Rewards",
                "Termination", "Provenance"]
    for name, cls in registry().items():
        doc = __import__(cls.__module__, fromlist=["_"]).__doc__
        positions = [doc.find(f"\n{section}\n") for section in sections]
        assert all(p > 0 for p in positions) and positions == sorted(positions), name
        assert cls.misgeneralization, f"{name} says nothing about what a misgeneralizing agent does"


def test_analysis_is_up_to_date():
    from benchmark.reporting import analysis

    assert (ROOT / "docs" / "analysis.md").read_text() == analysis.page(ROOT), \
        "docs/analysis.md is stale: run `python -m benchmark.reporting.analysis`"


def repository_files() -> list[Path]:
    """The files git tracks (a key a maintainer keeps in the checkout on purpose, untracked, is
    theirs); without git, every file but hidden folders and caches."""
    try:
        out = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True).stdout
        return [ROOT / name for name in out.decode().split("\0") if name and (ROOT / name).is_file()]
    except (OSError, subprocess.CalledProcessError):
        skip = lambda p: any(part.startswith(".") or part == "__pycache__" for part in p.relative_to(ROOT).parts)  # noqa: E731
        return [p for p in ROOT.rglob("*") if p.is_file() and not skip(p)]


def test_no_private_key_is_in_the_repository():
    marker = b"PRIVATE" + b" KEY-----"     # spelled apart, so that this file does not hold it
    files = repository_files()
    assert len(files) > 100                 # the walk sees the repository
    holding = [p.relative_to(ROOT).as_posix() for p in files if p.suffix == ".key" or marker in p.read_bytes()]
    assert not holding, f"private keys in the repository: {holding}"


def test_the_trusted_keys_are_public_key_files():
    from benchmark.submission.signing import load_trusted_keys

    folder = ROOT / "keys"
    others = sorted(p.name for p in folder.iterdir() if p.suffix != ".yaml" and p.name != "README.md")
    assert not others, f"keys/ holds only README.md and <key-id>.yaml public key files, not {others}"
    assert len(load_trusted_keys(folder)) == len(list(folder.glob("*.yaml")))


def test_the_ppo_runs_table_is_read_from_the_committed_curves():
    from benchmark.contract.registry import registry
    from benchmark.reporting import training_curves as tc

    readme = (ROOT / "baselines" / "README.md").read_text()
    table = tc.runs_table(tc.runs(ROOT / "baselines" / "ppo" / "weights"), list(registry()))
    assert tc.with_runs_table(readme, "ppo", table) == readme, \
        "baselines/README.md's ppo runs are stale: run `python -m benchmark.reporting.training_curves ppo`"
