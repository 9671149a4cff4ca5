"""`proxybench train NAME`: find a baseline's training code and run it.

A baseline is a folder of the `baselines` package with a `submission.yaml` (whose `name` is what
users type); a trainable one also has a `train.py` exposing

    train(task, seed, alpha=0.0, steps=None, out=None, progress=True) -> Path

which trains on the task's train split and writes the weights into the folder `out`, and an
`agent.py` whose `make_agent(task, seed, weights=FOLDER)` loads them. Found through the
installed package, so the same code runs from a checkout and from a wheel; weights are written
where `out` says, by default the baseline's own `weights/` in a checkout and `./weights/<name>/`
when the baselines are installed (never into site-packages).
"""

from __future__ import annotations

import importlib
from pathlib import Path

import yaml

from benchmark.contract.registry import get_task


class TrainingError(RuntimeError):
    pass


def baselines_root() -> Path:
    """The folder of the `baselines` package (a checkout's baselines/, or site-packages')."""
    import baselines

    return Path(baselines.__file__).resolve().parent


def baselines_found() -> dict[str, Path]:
    """Baseline name (from its manifest) -> folder, for every baseline."""
    return {yaml.safe_load(manifest.read_text())["name"]: manifest.parent
            for manifest in sorted(baselines_root().glob("*/submission.yaml"))}


def baseline_folder(name: str) -> Path:
    found = baselines_found()
    if name not in found:
        raise TrainingError(f"unknown baseline {name!r}; known: {', '.join(found) or 'none'}")
    return found[name]


def trainable_baselines() -> dict[str, Path]:
    """Baseline name -> folder, for every baseline with a train.py."""
    return {name: folder for name, folder in baselines_found().items() if (folder / "train.py").is_file()}


def in_checkout() -> bool:
    """Whether the baselines are a source checkout's (beside pyproject.toml), not installed."""
    return (baselines_root().parent / "pyproject.toml").is_file()


def default_weights(name: str) -> Path:
    folder = trainable_baselines()[name]
    return folder / "weights" if in_checkout() else Path.cwd() / "weights" / name


def baseline_module(name: str, part: str):
    """A trainable baseline's `train` or `agent` module; TrainingError if a package is missing."""
    baselines = trainable_baselines()
    if name not in baselines:
        raise TrainingError(f"unknown baseline {name!r}; trainable: {', '.join(baselines) or 'none'}")
    try:
        return importlib.import_module(f"baselines.{baselines[name].name}.{part}")
    except ImportError as exc:
        raise TrainingError(f"baseline {name!r} needs a missing package ({exc}); "
                            "install the extra: pip install -e '.[deep]'") from None


def train_baseline(name: str, task: str, seed: int, *, alpha: float = 0.0, steps: int | None = None,
                   out: str | Path | None = None, progress: bool = True) -> Path:
    if steps is not None and steps < 1:
        raise TrainingError(f"--steps must be positive, got {steps}")
    try:
        task_name = get_task(task, alpha=alpha).name   # the task checks alpha
    except (KeyError, ValueError) as exc:
        raise TrainingError(str(exc.args[0])) from None
    module = baseline_module(name, "train")
    kwargs = {"alpha": alpha, "out": Path(out) if out is not None else default_weights(name), "progress": progress}
    if steps is not None:
        kwargs["steps"] = steps
    return Path(module.train(task_name, seed, **kwargs))
