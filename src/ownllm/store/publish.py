"""Publish a directory atomically: write into a staging folder, then swap it into place.

A reader sees the previous complete artefact (an index, a merged model) or the new complete
one, never half of one.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path


def publish_dir(target: Path, write: Callable[[Path], None]) -> None:
    staging = target.with_name(f"{target.name}.tmp")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    write(staging)
    shutil.rmtree(target, ignore_errors=True)
    staging.rename(target)
