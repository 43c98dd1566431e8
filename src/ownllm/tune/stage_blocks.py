"""A tuning run's training blocks, stage by stage, from its files: built the same way by the local trainer and
by every Ray Train worker, so all of them step over the same data."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ownllm.errors import InvalidInput
from ownllm.synth.dataset import read_jsonl
from ownllm.tune.data import Block, Example, pack, record_example, unpacked
from ownllm.tune.recipe import Recipe


def _examples(tokenizer: Any, path: Path) -> list[Example]:
    records = read_jsonl(path)
    if not records:
        raise InvalidInput(f"{path.name}: no training records", param="training_file")
    return [record_example(tokenizer, record, f"{path.name} record {i + 1}") for i, record in enumerate(records)]


def _blocks(examples: list[Example], recipe: Recipe) -> list[Block]:
    seq = recipe.training.seq_len
    blocks = pack(examples, seq) if recipe.training.packing else unpacked(examples, seq)
    if not blocks:
        raise InvalidInput("after tokenizing, no record has a trainable token", param="training_file")
    return blocks


def stage_blocks_for(tokenizer: Any, files: list[Path], recipe: Recipe) -> list[list[Block]]:
    """Each stage's training blocks, from its file: the same on every worker that builds them."""
    return [_blocks(_examples(tokenizer, path), recipe) for path in files]
