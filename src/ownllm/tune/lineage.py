"""What a tuning run records so any model traces back to its files, data, recipe and code."""

from __future__ import annotations

import hashlib
import json
import subprocess
from pathlib import Path
from typing import Any

import ownllm


def code_version() -> str:
    """The package version, plus the git commit when running from a checkout (and `+dirty` if edited)."""
    root = Path(ownllm.__file__).resolve().parents[2]
    try:
        commit = subprocess.run(["git", "-C", str(root), "rev-parse", "--short=12", "HEAD"], capture_output=True,
                                text=True, timeout=5, check=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", str(root), "status", "--porcelain", "--untracked-files=no"],
                               capture_output=True, text=True, timeout=5).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return ownllm.__version__
    return f"{ownllm.__version__}+g{commit}{'.dirty' if dirty else ''}"


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as source:
        for block in iter(lambda: source.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def run_key(payload: dict[str, Any]) -> str:
    """Same inputs, same key: a re-run of an interrupted job finds it and resumes instead of starting over."""
    return hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()[:32]
