"""Where the benchmark keeps what it can recompute: reference tables, curve runs."""

from __future__ import annotations

import os
from pathlib import Path


def cache_dir() -> Path:
    """$PROXYBENCH_CACHE, else ~/.cache/proxybench."""
    return Path(os.environ.get("PROXYBENCH_CACHE", Path.home() / ".cache" / "proxybench"))
