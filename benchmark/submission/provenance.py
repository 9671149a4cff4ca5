"""Provenance: why the leaderboard may believe a row's figures. Submissions arrive as folders in
pull requests, so a results.json is never taken at its word. A row is of one of three kinds:

- **verified**: its results carry a valid signature by a key listed in the repository's `keys/`
  (`benchmark.submission.signing`), and the submission folder's content hash today equals the
  signed `submission.content_hash`: a maintainer scored exactly this code and signed the figures.
- **reproduced**: unsigned, but listed in `baselines/reproduced.yaml`, whose entries
  `tests/test_reproducibility.py` rescores in CI from the committed code and weights and compares
  with the committed figures exactly, on the tasks listed there; its folder must also hash as it
  did when scored.
- **self-reported**: neither. Shown apart, never ranked with the others.

A signature that is unknown or does not verify, or a verified or reproduced folder whose content
changed since it was scored, is an error (`ProvenanceError`), never a quiet demotion: the row
would otherwise change kind without anyone noticing.
"""

from __future__ import annotations

from pathlib import Path

import yaml

from .manifest import content_hash
from .signing import SIGNATURE, SigningError, TrustedKey, verify_signature

VERIFIED, REPRODUCED, SELF_REPORTED = "verified", "reproduced", "self-reported"
KINDS = (VERIFIED, REPRODUCED, SELF_REPORTED)
REPRODUCED_FILE = "baselines/reproduced.yaml"


class ProvenanceError(ValueError):
    """A row that claims more than it can show; the message is one line naming the file."""


def reproduced_entries(root: str | Path) -> dict[str, list[str]]:
    """Submission folder (relative to `root`, e.g. 'baselines/random') -> the tasks CI rescores,
    from root/baselines/reproduced.yaml (none when the file does not exist). The one list that
    both the rescoring test and the leaderboard read."""
    path = Path(root) / REPRODUCED_FILE
    if not path.is_file():
        return {}
    try:
        data = yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError as exc:
        raise ProvenanceError(f"{REPRODUCED_FILE}: not valid YAML ({getattr(exc, 'problem', exc)})") from None
    if not isinstance(data, dict):
        raise ProvenanceError(f"{REPRODUCED_FILE}: a mapping of submission folder -> list of tasks")
    for folder, tasks in data.items():
        if not (isinstance(tasks, list) and tasks and all(isinstance(t, str) for t in tasks)):
            raise ProvenanceError(f"{REPRODUCED_FILE}: {folder}: the tasks CI rescores, a non-empty list of names")
        if not (Path(root) / folder / "results.json").is_file():
            raise ProvenanceError(f"{REPRODUCED_FILE}: {folder}: no results.json there")
    return {str(folder): list(tasks) for folder, tasks in data.items()}


def _same_code(source: str, results: dict, folder: Path, since: str, remedy: str) -> None:
    recorded = (results.get("submission") or {}).get("content_hash")
    if not recorded:
        raise ProvenanceError(f"{source}: submission.content_hash: missing, so nothing ties the figures to "
                              f"the folder's code")
    now = content_hash(folder)
    if now != recorded:
        raise ProvenanceError(f"{source}: submission.content_hash: the folder's content changed since it was "
                              f"{since} ({recorded[:12]} then, {now[:12]} now); {remedy}")


def row_kind(root: str | Path, source: str, results: dict, trusted: dict[str, TrustedKey],
             reproduced: dict[str, list[str]]) -> tuple[str, str]:
    """(kind, what backs it, e.g. 'signed by key 1f2e... (Ada)') for the results of
    root/`source` (a results.json path relative to root)."""
    folder_rel = Path(source).parent.as_posix()
    folder = Path(root) / folder_rel
    if SIGNATURE in results:
        try:
            key = verify_signature(results, trusted)
        except SigningError as exc:
            raise ProvenanceError(f"{source}: {exc}") from None
        _same_code(source, results, folder, "signed",
                   f"rescore and sign again (`proxybench score {folder_rel} --sign KEYFILE`)")
        return VERIFIED, f"signed by {key.holder} (key {key.key_id})"
    if folder_rel in reproduced:
        _same_code(source, results, folder, "scored", f"rescore it (`proxybench score {folder_rel}`)")
        rescored = reproduced[folder_rel]
        every = set(rescored) >= set(results.get("tasks") or {})
        return REPRODUCED, "CI rescores " + ("every task" if every else ", ".join(rescored))
    return SELF_REPORTED, ""
