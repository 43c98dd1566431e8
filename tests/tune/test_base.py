"""Where the float32 copy of a shipped base lives: once per machine, named after the file it came from."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from ownllm.models.hub import SMOLLM2_135M
from ownllm.tune.base import _fingerprint, dequantized_folder


def test_the_dequantized_base_is_in_the_machines_model_cache_not_a_home(monkeypatch: pytest.MonkeyPatch,
                                                                        tmp_path: Path) -> None:
    monkeypatch.setenv("OWNLLM_MODEL_CACHE", str(tmp_path / "machine-cache"))
    folder = dequantized_folder(SMOLLM2_135M.id)
    assert folder.parent == tmp_path / "machine-cache" / "hf"  # every home on the machine finds the same copy
    assert folder.name.startswith(f"{SMOLLM2_135M.id}-") and len(folder.name) == len(SMOLLM2_135M.id) + 13
    assert dequantized_folder(SMOLLM2_135M.id) == folder  # stable while the installed file is the same


def test_another_file_gets_another_folder(tmp_path: Path) -> None:
    gguf = tmp_path / "model.gguf"
    gguf.write_bytes(b"GGUF" + b"\0" * 64)
    first = _fingerprint(gguf, None)
    gguf.write_bytes(b"GGUF" + b"\0" * 65)  # an updated package: another size (and time)
    assert _fingerprint(gguf, None) != first
    os.utime(gguf, ns=(1, 1))
    assert _fingerprint(gguf, None) != first
    assert _fingerprint(gguf, "ab" * 32) == "ab" * 6  # a verified official hash names it where there is one
