"""Checkpoints that make a killed run resumable to the very same final weights.

A checkpoint holds everything the next step depends on: the adapter weights, the optimizer
and scheduler state, the RNG state (LoRA dropout draws from it) and the loss history. It
is written to a temporary folder and renamed, so a kill during the write leaves the previous
checkpoint intact; the adapter is also saved in PEFT's format so any checkpoint is usable.
"""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

STATE_FILE = "trainer_state.pt"
POSITION_FILE = "position.json"  # stage/step, so listing checkpoints never loads optimizer states


@dataclass(frozen=True)
class CheckpointInfo:
    path: Path
    stage: int
    step: int  # steps done within the stage
    global_step: int


def checkpoint_dir(run_dir: Path) -> Path:
    return run_dir / "checkpoints"


def save_checkpoint(run_dir: Path, model: Any, state: dict[str, Any], keep: int = 2) -> CheckpointInfo:
    from peft import get_peft_model_state_dict

    folder = checkpoint_dir(run_dir)
    folder.mkdir(parents=True, exist_ok=True)
    name = f"step-{state['global_step']:06d}"
    tmp = folder / f".{name}.tmp-{os.getpid()}"
    shutil.rmtree(tmp, ignore_errors=True)
    model.save_pretrained(tmp)
    torch.save({**state, "adapter": get_peft_model_state_dict(model)}, tmp / STATE_FILE)
    position = {key: state[key] for key in ("stage", "step", "global_step")}
    (tmp / POSITION_FILE).write_text(json.dumps(position))
    final = folder / name
    shutil.rmtree(final, ignore_errors=True)
    tmp.rename(final)
    for old in list_checkpoints(run_dir)[:-keep]:
        shutil.rmtree(old.path, ignore_errors=True)
    return CheckpointInfo(final, state["stage"], state["step"], state["global_step"])


def list_checkpoints(run_dir: Path) -> list[CheckpointInfo]:
    found = []
    folder = checkpoint_dir(run_dir)
    if not folder.exists():
        return []
    for path in folder.glob("step-*"):
        position_path = path / POSITION_FILE
        if position_path.exists() and (path / STATE_FILE).exists():
            position = json.loads(position_path.read_text())
            found.append(CheckpointInfo(path, position["stage"], position["step"], position["global_step"]))
    return sorted(found, key=lambda c: c.global_step)


def load_checkpoint(info: CheckpointInfo) -> dict[str, Any]:
    return torch.load(info.path / STATE_FILE, map_location="cpu", weights_only=False)
