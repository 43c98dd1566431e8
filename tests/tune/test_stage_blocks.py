"""A stage's extra passes over one generator's records (`repeat`): counted, packed apart, and every mistake named
before a job exists."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from transformers import AutoTokenizer

from ownllm.errors import InvalidInput
from ownllm.store.tenants import create_tenant
from ownllm.tune.plan import TuneRequest, plan_tune
from ownllm.tune.recipe import load_recipe
from ownllm.tune.stage_blocks import stage_blocks_for


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
    plain = stage_blocks_for(tokenizer, [path], load_recipe("sft-lora"))[0]
    repeated = stage_blocks_for(tokenizer, [path], load_recipe("sft-lora", {"stages.0.repeat.facts": 3}))[0]
    assert sum(len(b.lengths) for b in plain) == 7
    assert sum(len(b.lengths) for b in repeated) == 7 + 3 * 2
    # both fact records fit one 512-token block, so each extra pass is exactly one block of its own
    assert len(repeated) == len(plain) + 3 and all(len(b.lengths) == 2 for b in repeated[len(plain):])


def test_repeat_mistakes_are_named_before_a_job_exists(home, tiny_base, tmp_path):
    path = _training_file(tmp_path)
    tenant = create_tenant(home, "repeater")
    request = TuneRequest(base_model=str(tiny_base), training_file=path, dataset=None,
                          overrides={"stages.0.repeat.natural": 2})
    with pytest.raises(InvalidInput, match=r"`stages.0.repeat.natural`: no record of sft.jsonl was written by"):
        plan_tune(home, tenant.id, request)
    request.overrides = {"stages.0.repeat.facts": 2}
    assert plan_tune(home, tenant.id, request).recipe.stages[0].repeat == {"facts": 2}
    for bad in (0, 21, "3", True):
        with pytest.raises(InvalidInput, match=r"`stages.0.repeat.facts`"):
            load_recipe("sft-lora", {"stages.0.repeat.facts": bad})
