"""`proxybench train NAME`: find a baseline's training code and run it.

A trainable baseline is a folder `baselines/<module>/` with a `submission.yaml` (whose `name`
is what users type) and a `train.py` exposing

    train(task, seed, alpha=0.0, steps=None, out=None, progress=True) -> Path

which trains on the task's train split and writes the weights `make_agent(task, seed)` loads.
"""

from __future__ import annotations

import importlib
from pathlib import Path

import yaml

from .task import get_task

BASELINES = Path(__file__).resolve().parents[1] / "baselines"


class TrainingError(RuntimeError):
    pass


def trainable_baselines() -> dict[str, Path]:
    """Baseline name (from its manifest) -> folder, for every baseline with a train.py."""
    found = {}
    for manifest in sorted(BASELINES.glob("*/submission.yaml")):
        if (manifest.parent / "train.py").is_file():
            found[yaml.safe_load(manifest.read_text())["name"]] = manifest.parent
    return found


def train_baseline(name: str, task: str, seed: int, *, alpha: float = 0.0, steps: int | None = None,
                   out: str | Path | None = None, progress: bool = True) -> Path:
    baselines = trainable_baselines()
    if name not in baselines:
        raise TrainingError(f"unknown baseline {name!r}; trainable: {', '.join(baselines) or 'none'}")
    if not 0.0 <= alpha <= 1.0:
        raise TrainingError(f"--alpha must be in [0, 1], got {alpha}")
    if steps is not None and steps < 1:
        raise TrainingError(f"--steps must be positive, got {steps}")
    try:
        task_name = get_task(task).name
    except KeyError as exc:
        raise TrainingError(str(exc.args[0])) from None
    try:
        module = importlib.import_module(f"baselines.{baselines[name].name}.train")
    except ImportError as exc:
        raise TrainingError(f"baseline {name!r} needs a missing package ({exc}); "
                            "install the extra: pip install -e '.[deep]'") from None
    kwargs = {"alpha": alpha, "out": out, "progress": progress}
    if steps is not None:
        kwargs["steps"] = steps
    return Path(module.train(task_name, seed, **kwargs))
