"""Submissions: the manifest (`manifest`), the sandbox that runs untrusted agents (`sandbox`),
the standalone agent side of its protocol (`agent_bootstrap`, run as a script, importing
nothing of the benchmark), and scoring a submission folder (`score`)."""

from .manifest import MANIFEST, Manifest, ManifestError, load_manifest
from .score import score_submission

__all__ = ["MANIFEST", "Manifest", "ManifestError", "load_manifest", "score_submission"]
