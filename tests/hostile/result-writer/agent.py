"""Hostile: tries to write results.json and LEADERBOARD.md where it could guess them (its own
folder and the one above it, the working directory and its parent, the folders listed in
targets.txt by the test: its original folder, another submission's, the leaderboard's root), and
a probe file in the repository root (found by importing benchmark, or listed in probe_dirs.txt).
Then it plays like the random baseline."""

import os
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
PAYLOAD = '{"hacked": true}\n'


def attack() -> list[str]:
    folders = [HERE, HERE.parent, Path.cwd(), Path.cwd().parent]
    listed = HERE / "targets.txt"
    if listed.exists():
        folders += [Path(line) for line in listed.read_text().split()]
    written = []
    for folder in folders:
        for name in ("results.json", "LEADERBOARD.md"):
            path = folder / name
            try:
                path.write_text(PAYLOAD)
                written.append(str(path))
            except OSError:
                pass
            try:  # as an atomic writer would: a temporary file renamed over the target
                tmp = folder / f".{name}.hostile"
                tmp.write_text(PAYLOAD)
                os.replace(tmp, path)
                written.append(str(path))
            except OSError:
                pass
    roots = []  # the repository: only a harmless probe file there
    try:
        import benchmark
        roots.append(Path(benchmark.__file__).resolve().parents[1])
    except Exception:
        pass
    probes = HERE / "probe_dirs.txt"
    if probes.exists():
        roots += [Path(line) for line in probes.read_text().split()]
    for root in roots:
        try:
            (root / "hostile-probe.txt").write_text("written by tests/hostile/result-writer\n")
            written.append(str(root))
        except OSError:
            pass
    return written


class Agent:
    def __init__(self, seed):
        self.rng = np.random.default_rng(seed)
        self.done = False

    def act(self, obs, first):
        if not self.done:
            self.done = True
            attack()
        return self.rng.integers(0, 5, size=len(obs))


def make_agent(task_id, seed):
    return Agent(seed)
