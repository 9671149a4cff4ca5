"""Submissions: the `submission.yaml` manifest, its one declared schema, and loading the agent.

A submission is a folder with its code, small weights and a manifest:

    name: my-agent              # unique; lower case, digits, '-'
    authors: [Ada Lovelace]
    description: one paragraph
    entry_point: agent.py:make_agent
    track: standard             # or open
    training:
      splits: [train]           # which splits it trained on
      alpha: 0.0                # disambiguation fraction used in training
      env_steps: 1000000        # per task
      seeds: [0, 1, 2]          # training seeds (one run each)

`make_agent(task_id, seed)` returns an object with `act(obs, first) -> actions` on batches:
obs (B, 13, 13, 3) uint8, first (B,) bool, actions (B,) integers in [0, 4]. `task_id` is the
task's short name (e.g. "RedDoor"); the agent is never told the split.
"""

from __future__ import annotations

import ast
import hashlib
import importlib.util
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import yaml

from benchmark.contract.registry import get_task
from benchmark.evaluation.results import RESULTS

MANIFEST = "submission.yaml"
NAME_RE = re.compile(r"^[a-z0-9][a-z0-9-]{0,63}$")
ENTRY_RE = re.compile(r"^[A-Za-z0-9_./-]+\.py:[A-Za-z_][A-Za-z0-9_]*$")
TRACKS = ("standard", "imitation", "open")


class ManifestError(ValueError):
    """A manifest that does not fit the schema; the message names the file and the field."""


def _is_str(v):
    return isinstance(v, str) and v.strip() != ""


def _is_int(v):
    return isinstance(v, int) and not isinstance(v, bool)


# field -> (required, check, what the field must be). Nested fields use dots.
SCHEMA: dict[str, tuple[bool, Callable[[Any], bool], str]] = {
    "name": (True, lambda v: isinstance(v, str) and bool(NAME_RE.match(v)),
             "lower-case letters, digits and '-', at most 64 characters"),
    "authors": (True, lambda v: isinstance(v, list) and len(v) > 0 and all(_is_str(a) for a in v),
                "a non-empty list of names"),
    "description": (True, _is_str, "a non-empty string"),
    "entry_point": (True, lambda v: isinstance(v, str) and bool(ENTRY_RE.match(v)) and ".." not in v,
                    "'file.py:function' inside the submission folder"),
    "track": (True, lambda v: v in TRACKS, f"one of {', '.join(TRACKS)}"),
    "method": (False, _is_str, "a short name of the method (e.g. 'PPO', 'PPO + PLR')"),
    "tasks": (False, lambda v: isinstance(v, list) and len(v) > 0 and all(_is_str(t) for t in v)
              and len(set(v)) == len(v), "a non-empty list of distinct task names (the tasks it covers)"),
    "privileged": (False, lambda v: isinstance(v, list) and all(_is_str(x) for x in v),
                   "a list of the privileged knowledge used (e.g. 'the proxy objective', 'oracle regret')"),
    "training": (True, lambda v: isinstance(v, dict), "a mapping with splits, alpha, env_steps, seeds"),
    "training.splits": (True, lambda v: isinstance(v, list) and len(v) > 0
                        and all(s in ("train", "heldout") for s in v) and len(set(v)) == len(v),
                        "a non-empty list of distinct splits from [train, heldout]"),
    "training.alpha": (True, lambda v: isinstance(v, (int, float)) and not isinstance(v, bool) and 0 <= v <= 1,
                       "a number in [0, 1]"),
    "training.env_steps": (True, lambda v: _is_int(v) and v >= 0, "a non-negative integer"),
    "training.seeds": (True, lambda v: isinstance(v, list) and 0 < len(v) <= 32 and all(_is_int(s) and s >= 0 for s in v)
                       and len(set(v)) == len(v), "a non-empty list of at most 32 distinct non-negative integers"),
    "training.demonstrator": (False, _is_str, "the policy demonstrations came from (imitation track)"),
    "training.in_sample": (False, lambda v: isinstance(v, bool),
                           "true if training saw the train split's scoring levels (T is then in-sample)"),
}


@dataclass(frozen=True)
class Manifest:
    path: Path                 # the submission folder
    name: str
    authors: tuple[str, ...]
    description: str
    entry_point: str
    track: str
    splits: tuple[str, ...]
    alpha: float
    env_steps: int
    seeds: tuple[int, ...]
    method: str = ""
    privileged: tuple[str, ...] = ()
    demonstrator: str = ""
    in_sample: bool = False
    tasks: tuple[str, ...] = ()     # the tasks it covers; empty: the whole suite


def _lookup(data: dict, dotted: str):
    node = data
    for part in dotted.split("."):
        if not isinstance(node, dict) or part not in node:
            return _MISSING
        node = node[part]
    return node


_MISSING = object()


def load_manifest(folder: str | Path) -> Manifest:
    """Parse and validate `folder/submission.yaml`; ManifestError names the file and field."""
    folder = Path(folder)
    path = folder / MANIFEST
    if not folder.is_dir():
        raise ManifestError(f"{folder}: not a submission folder")
    if not path.is_file():
        raise ManifestError(f"{path}: missing (a submission folder needs a {MANIFEST})")
    try:
        data = yaml.safe_load(path.read_text())
    except yaml.YAMLError as exc:
        where = getattr(exc, "problem_mark", None)
        line = f" line {where.line + 1}" if where is not None else ""
        raise ManifestError(f"{path}:{line} not valid YAML ({getattr(exc, 'problem', exc)})") from None
    if not isinstance(data, dict):
        raise ManifestError(f"{path}: expected a mapping of fields, got {type(data).__name__}")
    known = {f.split(".")[0] for f in SCHEMA} | {f for f in SCHEMA}
    for key in list(data) + [f"training.{k}" for k in (data.get("training") or {}) if isinstance(data.get("training"), dict)]:
        if key not in known:
            raise ManifestError(f"{path}: field '{key}': unknown field")
    for field, (required, check, what) in SCHEMA.items():
        value = _lookup(data, field)
        if value is _MISSING:
            if required:
                raise ManifestError(f"{path}: field '{field}': missing (must be {what})")
            continue
        if not check(value):
            raise ManifestError(f"{path}: field '{field}': got {value!r}, must be {what}")
    training = data["training"]
    if data["track"] in ("standard", "imitation") and (training["splits"] != ["train"] or training["alpha"] != 0):
        raise ManifestError(f"{path}: field 'track': the {data['track']} track trains on splits [train] at "
                            f"alpha 0; declare track: open for anything else")
    if data["track"] == "standard" and data.get("privileged"):
        raise ManifestError(f"{path}: field 'privileged': the standard track uses no privileged knowledge; "
                            f"declare track: open")
    if data["track"] == "imitation" and "demonstrator" not in training:
        raise ManifestError(f"{path}: field 'training.demonstrator': missing (the imitation track names "
                            f"its demonstrator)")
    entry_file = data["entry_point"].split(":")[0]
    if not (folder / entry_file).is_file():
        raise ManifestError(f"{path}: field 'entry_point': file {entry_file!r} not found in {folder}")
    return Manifest(folder, data["name"], tuple(data["authors"]), data["description"].strip(),
                    data["entry_point"], data["track"], tuple(training["splits"]),
                    float(training["alpha"]), int(training["env_steps"]), tuple(training["seeds"]),
                    data.get("method", "").strip(), tuple(data.get("privileged", ())),
                    training.get("demonstrator", "").strip(), bool(training.get("in_sample", False)),
                    covered_tasks(path, data.get("tasks")))


def covered_tasks(path: Path, names: list | None) -> tuple[str, ...]:
    """The manifest's `tasks` as the suite's names (ManifestError for an unknown one)."""
    out = []
    for name in names or ():
        try:
            out.append(get_task(name).name)
        except KeyError:
            raise ManifestError(f"{path}: field 'tasks': unknown task {name!r}") from None
    return tuple(out)


def load_agent_factory(manifest: Manifest) -> Callable:
    """Import the entry point in-process and return `make_agent`. (The scorer's sandbox runs
    this inside the agent's own process.)"""
    file_name, func_name = manifest.entry_point.split(":")
    file_path = (manifest.path / file_name).resolve()
    module_name = f"proxybench_submission_{manifest.name.replace('-', '_')}"
    spec = importlib.util.spec_from_file_location(module_name, file_path)
    module = importlib.util.module_from_spec(spec)
    sys.path.insert(0, str(file_path.parent))
    try:
        spec.loader.exec_module(module)
    except Exception as exc:
        raise ManifestError(f"{manifest.path / MANIFEST}: field 'entry_point': importing {file_name} "
                            f"failed: {type(exc).__name__}: {exc}") from exc
    finally:
        sys.path.remove(str(file_path.parent))
    factory = getattr(module, func_name, None)
    if not callable(factory):
        raise ManifestError(f"{manifest.path / MANIFEST}: field 'entry_point': {file_name} has no "
                            f"function {func_name!r}")
    return factory


def content_hash(folder: str | Path) -> str:
    """SHA-256 over the submission's files (relative path and bytes), results, caches and training
    checkpoints (a `checkpoints/` folder: transient state of a run in progress) excluded; then over
    the source of every module of the installed `baselines` package that the folder's code imports,
    directly or through another such module (ppo-dr acts through baselines/ppo/agent.py, ppo
    through baselines/nets.py): code the agent runs counts as its content wherever it lives."""
    folder = Path(folder)
    digest = hashlib.sha256()
    sources = []
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        rel = path.relative_to(folder).as_posix()
        parts = rel.split("/")
        if rel == RESULTS or "__pycache__" in parts or "checkpoints" in parts or rel.endswith(".tmp"):
            continue
        digest.update(rel.encode() + b"\0" + path.read_bytes() + b"\0")
        if path.suffix == ".py":
            sources.append(path)
    inside = folder.resolve()
    for module, path in sorted(_imported_baseline_modules(sources).items()):
        if inside not in path.resolve().parents:   # the folder's own files are hashed above
            digest.update(b"import:" + module.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def baselines_root() -> Path | None:
    """The installed `baselines` package's folder (found, not imported), or None."""
    spec = importlib.util.find_spec("baselines")
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations)))


def _imported_baseline_modules(sources: list[Path]) -> dict[str, Path]:
    """{module name: file} of the `baselines` modules these files import, transitively. Read with
    `ast`, nothing is executed; a file that does not parse imports nothing (scoring says why)."""
    root = baselines_root()
    if root is None:
        return {}
    found: dict[str, Path] = {}
    todo = list(sources)
    while todo:
        try:
            tree = ast.parse(todo.pop().read_bytes())
        except (SyntaxError, ValueError):
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                # `from baselines import nets` names a module; `from baselines.ppo.ppo import train` a name
                names = [node.module] + [f"{node.module}.{alias.name}" for alias in node.names]
            else:
                continue
            for name in names:
                parts = name.split(".")
                if parts[0] != "baselines":
                    continue
                for depth in range(1, len(parts) + 1):   # each package on the way is imported too
                    module = ".".join(parts[:depth])
                    base = root.joinpath(*parts[1:depth])
                    path = next((p for p in (base / "__init__.py", base.with_suffix(".py")) if p.is_file()), None)
                    if path is not None and module not in found:
                        found[module] = path
                        todo.append(path)
    return found
