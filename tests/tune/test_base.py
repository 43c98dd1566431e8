"""Where the float32 copy of a shipped base lives: once per machine, named after what it was made from."""

from __future__ import annotations

import os
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from ownllm.models.hub import SHIPPED_MODELS, SMOLLM2_135M
from ownllm.tune import base
from ownllm.tune.base import dequantized_folder


def test_the_dequantized_base_is_in_the_machines_model_cache_not_a_home(monkeypatch: pytest.MonkeyPatch,
                                                                        tmp_path: Path) -> None:
    monkeypatch.setenv("OWNLLM_MODEL_CACHE", str(tmp_path / "machine-cache"))
    folder = dequantized_folder(SMOLLM2_135M.id)
    assert folder.parent == tmp_path / "machine-cache" / "hf"  # every home on the machine finds the same copy
    assert folder.name.startswith(f"{SMOLLM2_135M.id}-") and len(folder.name) == len(SMOLLM2_135M.id) + 13
    assert dequantized_folder(SMOLLM2_135M.id) == folder  # stable while the installed file is the same


def test_another_file_package_or_transformers_gets_another_folder(monkeypatch: pytest.MonkeyPatch,
                                                                 tmp_path: Path) -> None:
    gguf = tmp_path / "model.gguf"
    gguf.write_bytes(b"GGUF" + b"\0" * 64)
    shipped = SHIPPED_MODELS[SMOLLM2_135M.id]
    monkeypatch.setattr(type(shipped), "locate", lambda self: gguf)
    seen = [base._fingerprint(SMOLLM2_135M.id)]
    gguf.write_bytes(b"GGUF" + b"\0" * 65)  # an updated package: another size
    seen.append(base._fingerprint(SMOLLM2_135M.id))
    os.utime(gguf, ns=(1, 1))  # the same size, another time
    seen.append(base._fingerprint(SMOLLM2_135M.id))
    monkeypatch.setattr(base.importlib.metadata, "version", lambda name: "9.9.9")  # same file, another release
    seen.append(base._fingerprint(SMOLLM2_135M.id))
    monkeypatch.setattr("transformers.__version__", "0.0.1")  # the cache outlives a virtualenv
    seen.append(base._fingerprint(SMOLLM2_135M.id))
    assert len(set(seen)) == len(seen)


def test_a_crashed_makers_scraps_are_swept_and_the_copy_is_made_once(monkeypatch: pytest.MonkeyPatch,
                                                                    tmp_path: Path) -> None:
    monkeypatch.setenv("OWNLLM_MODEL_CACHE", str(tmp_path))
    folder = dequantized_folder(SMOLLM2_135M.id)
    scrap = folder.with_name(f".{folder.name}.tmp-deadbeef")
    scrap.mkdir(parents=True)
    (scrap / "model.safetensors").write_bytes(b"half")
    made: list[Path] = []

    def fake_dequantize(gguf: Path, target: Path) -> None:  # the real one takes 13-50 s; this test is the lock's
        made.append(target)
        time.sleep(0.3)  # long enough for a second caller to arrive while the copy is being made
        target.mkdir()
        (target / "config.json").write_text("{}")

    monkeypatch.setattr(base, "_dequantize", fake_dequantize)
    with ThreadPoolExecutor(2) as threads:  # two callers at once in one process: the file lock orders them too
        assert list(threads.map(base.ensure_dequantized, [SMOLLM2_135M.id] * 2)) == [folder, folder]
    assert base.ensure_dequantized(SMOLLM2_135M.id) == folder
    assert len(made) == 1 and not scrap.exists() and not made[0].exists()  # made once, in a temp moved into place
    assert sorted(p.name for p in folder.parent.iterdir() if not p.name.endswith(".lock")) == [folder.name]
