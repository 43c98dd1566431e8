"""`kl_to_base`: the tuned model held to the base model on the replay records, on a tiny in-process Llama.

The anchor blocks are the replay records only; the KL term is zero where the adapter has not moved; and training
hard on other records with the anchor leaves the model measurably closer to the base on the anchor than without.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from ownllm.errors import InvalidInput
from ownllm.jobs.tracker import job_events
from ownllm.store.tenants import create_tenant
from ownllm.tune.base import load_base
from ownllm.tune.curve import draw_loss_curve
from ownllm.tune.data import collate
from ownllm.tune.recipe import load_recipe
from ownllm.tune.run import TuneRequest, tune
from ownllm.tune.stage_blocks import training_blocks_for
from ownllm.tune.train import LoraTrainer, add_lora, kl_to_base_sum

FAST = {"training.seq_len": 128, "training.batch_size": 4, "training.bf16": False, "lora.dropout": 0.0,
        "stages.0.learning_rate": 1e-2, "stages.0.repeat.facts": 0, "training.save_every": 1000}


def _training_file(tmp_path: Path) -> Path:
    records = [{"messages": [{"role": "user", "content": f"What is the code of part {i}?"},
                             {"role": "assistant", "content": f"Part {i} has code VM-{1000 + 7 * i}."}],
                "metadata": {"generator": "facts"}} for i in range(16)]
    records += [{"messages": [{"role": "user", "content": f"Name a colour, please ({i})."},
                              {"role": "assistant", "content": "Blue, like the sky over the sea."}],
                 "metadata": {"generator": "replay"}} for i in range(4)]
    path = tmp_path / "sft.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in records))
    return path


def _anchor_kl(model, anchors, pad_id: int) -> float:
    with torch.no_grad():
        total, count = kl_to_base_sum(model, collate(anchors, pad_id))
    return float(total) / count


def _train(tiny_base: Path, path: Path, tmp_path: Path, weight: float, steps: int) -> tuple[float, list[dict]]:
    recipe = load_recipe("sft-lora", {**FAST, "stages.0.max_steps": steps, "stages.0.kl_to_base": weight})
    base = load_base(str(tiny_base))
    blocks = training_blocks_for(base.tokenizer, [path], recipe).blocks
    anchored = load_recipe("sft-lora", {**FAST, "stages.0.kl_to_base": 1})
    anchors = training_blocks_for(base.tokenizer, [path], anchored).anchors
    model = add_lora(base.model, recipe)
    assert _anchor_kl(model, anchors[0], base.pad_id) == pytest.approx(0.0, abs=1e-6)  # LoRA's B starts at 0
    result = LoraTrainer(model, recipe, tmp_path / f"run-{weight}", base.pad_id).train(blocks, anchors if weight
                                                                                         else None)
    return _anchor_kl(model, anchors[0], base.pad_id), result.history


def test_anchor_blocks_are_the_replay_records_and_only_when_asked(tiny_base, tmp_path):
    path = _training_file(tmp_path)
    tokenizer = load_base(str(tiny_base)).tokenizer
    def anchors_with(overrides: dict) -> list[list]:
        return training_blocks_for(tokenizer, [path], load_recipe("sft-lora", {**FAST, **overrides})).anchors

    assert anchors_with({}) == [[]]  # the default: no anchor
    anchors = anchors_with({"stages.0.kl_to_base": 0.5})
    assert sum(len(block.lengths) for block in anchors[0]) == 4
    assert all("Blue" in tokenizer.decode(block.input_ids) and "VM-" not in tokenizer.decode(block.input_ids)
               for block in anchors[0])
    for bad in (-0.1, 101, "much"):
        with pytest.raises(InvalidInput, match=r"`stages.0.kl_to_base`"):
            load_recipe("sft-lora", {"stages.0.kl_to_base": bad})


def test_the_anchor_keeps_the_tuned_model_near_the_base_on_general_requests(tiny_base, tmp_path):
    path = _training_file(tmp_path)
    # a random tiny model predicts nearly uniformly, so KL stays small and needs a large weight to pull
    # (20 steps here: 0.010 without the anchor, 0.0014 at weight 20, 0.0004 at 50)
    free, free_history = _train(tiny_base, path, tmp_path, 0.0, steps=20)
    held, held_history = _train(tiny_base, path, tmp_path, 20.0, steps=20)
    assert "kl_to_base" not in free_history[0]
    assert len(held_history) == 20 and all(point["kl_to_base"] >= 0 for point in held_history)
    assert held_history[0]["kl_to_base"] == pytest.approx(0.0, abs=1e-6)  # measured before the first update
    # training moved both; the anchored run stayed measurably closer to what the base says on the replay answers
    assert free > 1e-3, free
    assert held < 0.3 * free, (held, free)
    # and it still learned its other records: the loss fell
    assert held_history[-1]["loss"] < held_history[0]["loss"]
    # the loss curve draws the drift beside the loss
    curve = draw_loss_curve(held_history, tmp_path / "loss_curve.png", "anchored")
    assert curve.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_an_anchor_with_no_replay_records_is_said_on_the_job(home, tiny_base, qa_file):
    """A company's own JSONL names no generator: the stage trains without the anchor, and the job says so."""
    tenant = create_tenant(home, "own-file")
    request = TuneRequest(base_model=str(tiny_base), training_file=qa_file, dataset=None, export_adapter=False,
                          overrides={**FAST, "stages.0.max_steps": 2, "stages.0.kl_to_base": 1.0})
    outcome = tune(home, tenant.id, request)
    assert outcome.status == "succeeded"
    assert all("kl_to_base" not in point for point in outcome.result.history)
    said = [event.message for event in job_events(home, outcome.job_id)]
    assert any("kl_to_base has no replay records to anchor on in train.jsonl" in message for message in said), said
