"""A tuning run's training blocks, stage by stage, from its files: built the same way by the local trainer and
by every Ray Train worker, so all of them step over the same data. Also each stage's anchor blocks, the general
requests on which `kl_to_base` holds the tuned model to the base model."""

from __future__ import annotations

from pathlib import Path
from typing import Any, NamedTuple

from ownllm.errors import InvalidInput
from ownllm.synth.dataset import read_jsonl, record_generator
from ownllm.tune.data import Block, Example, pack, record_example, unpacked
from ownllm.tune.recipe import Recipe

# the records `kl_to_base` anchors on: the base model's own answers to general prompts (synth/replay.py)
ANCHOR_GENERATOR = "replay"


def _packed(examples: list[Example], recipe: Recipe) -> list[Block]:
    seq = recipe.training.seq_len
    return pack(examples, seq) if recipe.training.packing else unpacked(examples, seq)


class TrainingBlocks(NamedTuple):
    """A run's blocks, stage by stage: what each stage trains on, and what `kl_to_base` anchors it with."""

    blocks: list[list[Block]]
    anchors: list[list[Block]]


def _stage_blocks(tokenizer: Any, path: Path, recipe: Recipe, index: int) -> tuple[list[Block], list[Block]]:
    """One stage's blocks: a pass over every record, then each extra pass its `repeat` asks for, packed on its
    own so that a record never shares a block with its own copy (the passes are the same blocks, reshuffled with
    the rest each epoch). With them, its anchor blocks: its replay records packed on their own, none where
    `kl_to_base` is 0 or the file holds no replay records."""
    records = read_jsonl(path)
    if not records:
        raise InvalidInput(f"{path.name}: no training records", param="training_file")
    examples = [record_example(tokenizer, record, f"{path.name} record {i + 1}") for i, record in enumerate(records)]
    blocks = _packed(examples, recipe)
    if not blocks:
        raise InvalidInput("after tokenizing, no record has a trainable token", param="training_file")
    generators = [record_generator(record) for record in records]

    def of(generator: str) -> list[Example]:
        return [example for example, made_by in zip(examples, generators, strict=True) if made_by == generator]

    for generator, times in sorted(recipe.stages[index].repeat.items()):
        # none in a company's own JSONL, when synth ran without that generator, or when seq_len cut them all
        blocks += _packed(of(generator), recipe) * times
    anchors = _packed(of(ANCHOR_GENERATOR), recipe) if recipe.stages[index].kl_to_base else []
    return blocks, anchors


def training_blocks_for(tokenizer: Any, files: list[Path], recipe: Recipe) -> TrainingBlocks:
    """Each stage's training and anchor blocks, from its file: the same on every worker that builds them."""
    stages = [_stage_blocks(tokenizer, path, recipe, index) for index, path in enumerate(files)]
    return TrainingBlocks([blocks for blocks, _ in stages], [anchors for _, anchors in stages])
