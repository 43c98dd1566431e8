"""A stage's extra passes over one generator's records (`repeat`): counted, packed apart, skipped where that
generator wrote nothing, and a name no generator has is an error naming the key."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from transformers import AutoTokenizer

from ownllm.errors import InvalidInput
from ownllm.tune.recipe import load_recipe
from ownllm.tune.stage_blocks import training_blocks_for


def _training_file(tmp_path: Path) -> Path:
    records = [{"messages": [{"role": "user", "content": f"What is fact {i}?"},
                             {"role": "assistant", "content": f"Value {i}."}], "metadata": {"generator": "facts"}}
               for i in range(2)]
    records += [{"messages": [{"role": "user", "content": f"Say something {i}"},
                              {"role": "assistant", "content": "Something."}], "metadata": {"generator": "replay"}}
                for i in range(3)]
    records.append({"text": "Veltrano sells e-bikes."})  # no metadata: never repeated
    records.append({"text": "Exported from the CRM.", "metadata": "crm"})  # metadata not a mapping: still trains
    path = tmp_path / "sft.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in records))
    return path


def test_a_stage_repeats_the_records_of_one_generator_each_pass_packed_apart(tiny_base, tmp_path):
    tokenizer = AutoTokenizer.from_pretrained(tiny_base)
    path = _training_file(tmp_path)
    once = {"stages.0.repeat.facts": 0}  # how a company turns the shipped recipe's repeat off
    plain = training_blocks_for(tokenizer, [path], load_recipe("sft-lora", once)).blocks[0]
    repeated = training_blocks_for(tokenizer, [path], load_recipe("sft-lora", {"stages.0.repeat.facts": 3})).blocks[0]
    assert sum(len(b.lengths) for b in plain) == 7
    assert sum(len(b.lengths) for b in repeated) == 7 + 3 * 2
    # both fact records fit one 512-token block, so each extra pass is exactly one block of its own
    assert len(repeated) == len(plain) + 3 and all(len(b.lengths) == 2 for b in repeated[len(plain):])
    # the shipped recipe repeats facts; a generator that wrote nothing here has nothing to repeat
    assert load_recipe("sft-lora").stages[0].repeat == {"facts": 2}
    unwritten = load_recipe("sft-lora", {"stages.0.repeat": {"natural": 2}})
    nothing = training_blocks_for(tokenizer, [path], unwritten).blocks[0]
    assert sum(len(b.lengths) for b in nothing) == 7
    # a repeat whose records the sequence length cuts to nothing trains nothing more, rather than failing the job
    cut = load_recipe("sft-lora", {"training.seq_len": 16, "training.packing": False})
    assert len(training_blocks_for(tokenizer, [path], cut).blocks[0]) == len(
        training_blocks_for(tokenizer, [path], load_recipe("sft-lora", {**once, "training.seq_len": 16,
                                                                     "training.packing": False})).blocks[0])


def test_a_repeat_that_is_no_generator_or_no_count_is_named():
    with pytest.raises(InvalidInput, match=r"`stages.0.repeat`: .*'fatcs' is not a synth generator; one of .*facts"):
        load_recipe("sft-lora", {"stages.0.repeat.fatcs": 2})
    for bad in (-1, 21, "3", True):
        with pytest.raises(InvalidInput, match=r"`stages.0.repeat.facts`"):
            load_recipe("sft-lora", {"stages.0.repeat.facts": bad})
