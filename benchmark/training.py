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
import sys
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
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
    baselines = trainable_baselines()
    if name not in baselines:
        raise TrainingError(f"unknown baseline {name!r}; trainable: {', '.join(baselines) or 'none'}")
    folder = baselines[name]
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


def declared_alpha(name: str) -> float:
    """A baseline's declared disambiguation fraction: its manifest's training.alpha."""
    folder = baseline_folder(name)
    return float(yaml.safe_load((folder / "submission.yaml").read_text())["training"]["alpha"])


def declared_steps(name: str, task: str) -> int | None:
    """The env-step budget a baseline trains `task` with by default: its train module's
    `STEPS[task]` or `DEFAULT_STEPS` (a baseline whose budget differs per task), else its
    manifest's `training.env_steps`."""
    module = baseline_module(name, "train")
    per_task = getattr(module, "STEPS", {}).get(task, getattr(module, "DEFAULT_STEPS", None))
    if per_task is not None:
        return int(per_task)
    manifest = yaml.safe_load((trainable_baselines()[name] / "submission.yaml").read_text())
    return int(manifest["training"]["env_steps"])


def train_baseline(name: str, task: str, seed: int, *, alpha: float | None = None, steps: int | None = None,
                   out: str | Path | None = None, progress: bool = True) -> Path:
    """One run; `alpha` None: the baseline's declared alpha (0 on the standard track)."""
    if steps is not None and steps < 1:
        raise TrainingError(f"--steps must be positive, got {steps}")
    if alpha is None:
        alpha = declared_alpha(name)
    try:
        task_name = get_task(task, alpha=alpha).name   # the task checks alpha
    except (KeyError, ValueError) as exc:
        raise TrainingError(str(exc.args[0])) from None
    module = baseline_module(name, "train")
    kwargs = {"alpha": alpha, "out": Path(out) if out is not None else default_weights(name), "progress": progress}
    if steps is not None:
        kwargs["steps"] = steps
    return Path(module.train(task_name, seed, **kwargs))


# Weights files a finished run leaves (a learning curve or a checkpoint alone means unfinished).
WEIGHT_SUFFIXES = (".npz", ".pt")


def run_finished(folder: str | Path, task: str, seed: int) -> bool:
    return any((Path(folder) / f"{task}-seed{seed}{suffix}").exists() for suffix in WEIGHT_SUFFIXES)


def train_job(baseline: str, task: str, alpha: float | None, seed: int, weights: str | None, steps: int | None) -> str:
    """One training run without a progress bar, for a process pool or Ray (module level, so
    they can ship it); returns a line saying what it wrote and how long it took."""
    start = time.time()
    out = train_baseline(baseline, task, seed, alpha=alpha, steps=steps, out=weights, progress=False)
    return f"{baseline} {task} seed {seed}{f' alpha {alpha:g}' if alpha else ''}: wrote {out} ({time.time() - start:.0f} s)"


def run_jobs(jobs: list[tuple], workers: int = 1, ray_address: str | None = None) -> None:
    """Run `train_job(*job)` for each job: `workers` local processes (each run is single-threaded),
    or on a Ray cluster; one line on stderr as each ends. A failed run is named when it fails and
    raises TrainingError after the others have ended (their weights are kept)."""
    if not jobs:
        return
    failures = []
    finished = _on_ray(jobs, ray_address) if ray_address else _on_pool(jobs, workers)
    for done, (job, result) in enumerate(finished, 1):
        try:
            print(f"  [{done}/{len(jobs)}] {result()}", file=sys.stderr, flush=True)
        except Exception as exc:   # noqa: BLE001 - reported now, raised after the rest
            line = f"{job[0]} {job[1]} seed {job[3]}: {type(exc).__name__}: {exc}"
            print(f"  [{done}/{len(jobs)}] FAILED {line}", file=sys.stderr, flush=True)
            failures.append(line)
    if failures:
        raise TrainingError(f"{len(failures)} of {len(jobs)} runs failed; first: {failures[0]}")


def _on_pool(jobs: list[tuple], workers: int):
    """(job, its result's getter) as each local job ends."""
    with ProcessPoolExecutor(max_workers=workers) as pool:
        futures = {pool.submit(train_job, *job): job for job in jobs}
        for future in as_completed(futures):
            yield futures[future], future.result


def _on_ray(jobs: list[tuple], address: str):
    """(job, its result's getter) as each job on the Ray cluster at `address` ends."""
    try:
        import ray
    except ImportError:
        raise TrainingError("--ray needs the ray extra: pip install -e '.[ray]'") from None
    local = address.split(":")[0] in ("127.0.0.1", "localhost")
    # A head on loopback: the driver must say it is on loopback too, or it waits for ever.
    ray.init(address=address, ignore_reinit_error=True, log_to_driver=False,
             **({"_node_ip_address": "127.0.0.1"} if local else {}))
    remote = ray.remote(train_job)
    pending = {remote.remote(*job): job for job in jobs}
    while pending:
        ready, _ = ray.wait(list(pending), num_returns=1)
        yield pending.pop(ready[0]), lambda ref=ready[0]: ray.get(ref)
