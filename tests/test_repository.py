"""The repository keeps its promises: CI runs the README's test command, and the committed
leaderboard and baseline results are what the committed code produces."""

import json
import re
from pathlib import Path

from benchmark import leaderboard
from benchmark.task import registry

ROOT = Path(__file__).resolve().parents[1]


def readme_command(heading_line: str) -> str:
    text = (ROOT / "README.md").read_text()
    after = text.split(heading_line, 1)[1]
    return re.search(r"^    (\S.*)$", after, re.M).group(1)


def test_ci_runs_the_readme_test_command():
    command = readme_command("Install the test dependencies and run the tests")
    assert command in (ROOT / ".ci" / "run").read_text()


def test_leaderboard_is_up_to_date():
    assert (ROOT / "LEADERBOARD.md").read_text() == leaderboard.generate(ROOT), \
        "LEADERBOARD.md is stale: run `proxybench leaderboard`"


def test_committed_results_cover_the_suite_at_current_versions():
    for path in sorted(ROOT.glob("baselines/*/results.json")):
        data = json.loads(path.read_text())
        versions = {name: res["version"] for name, res in data["tasks"].items()}
        assert versions == {name: cls.version for name, cls in registry().items()}, path
