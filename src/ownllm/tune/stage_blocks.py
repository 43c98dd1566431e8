"""A tuning run's training blocks, stage by stage, from its files: built the same way by the local trainer and
by every Ray Train worker, so all of them step over the same data."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ownllm.errors import InvalidInput
from ownllm.synth.dataset import read_jsonl, record_generator
from ownllm.tune.data import Block, Example, pack, record_example, unpacked
from ownllm.tune.recipe import Recipe


def _blocks(examples: list[Example], recipe: Recipe, what: str = "the training file") -> list[Block]:
    seq = recipe.training.seq_len
    blocks = pack(examples, seq) if recipe.training.packing else unpacked(examples, seq)
    if not blocks:
        raise InvalidInput(f"after tokenizing, no record of {what} has a trainable token", param="training_file")
    return blocks


def _stage_blocks(tokenizer: Any, path: Path, recipe: Recipe, index: int) -> list[Block]:
    """One stage's blocks: a pass over every record, then each extra pass its `repeat` asks for, packed on its
    own so that a record never shares a block with its own copy."""
    records = read_jsonl(path)
    if not records:
        raise InvalidInput(f"{path.name}: no training records", param="training_file")
    examples = [record_example(tokenizer, record, f"{path.name} record {i + 1}") for i, record in enumerate(records)]
    blocks = _blocks(examples, recipe)
    for generator, times in sorted(recipe.stages[index].repeat.items()):
        chosen = [example for example, record in zip(examples, records, strict=True)
                  if record_generator(record) == generator]
        if chosen:  # none in a company's own JSONL, or when synth ran without that generator
            blocks += _blocks(chosen, recipe, f"`stages.{index}.repeat.{generator}`") * times
    return blocks


def stage_blocks_for(tokenizer: Any, files: list[Path], recipe: Recipe) -> list[list[Block]]:
    """Each stage's training blocks, from its file: the same on every worker that builds them."""
    return [_stage_blocks(tokenizer, path, recipe, index) for index, path in enumerate(files)]
