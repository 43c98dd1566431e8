"""Recipes: every shipped one validates; a typo or a bad value is an error naming the key; rewording one keeps its
interrupted runs resumable."""

from __future__ import annotations

import math

import pytest
import torch

from ownllm.errors import InvalidInput
from ownllm.jobs.tracker import INTERRUPTED, JobTracker
from ownllm.store.tenants import create_tenant
from ownllm.tune.plan import TunePlan, TuneRequest, resume_key
from ownllm.tune.recipe import Recipe, available_recipes, load_recipe, read_recipe_file
from ownllm.tune.run import JOB_KIND, find_resumable


def test_shipped_recipes_validate():
    assert set(available_recipes()) >= {"cpt-lora", "sft-lora", "raft-lora", "cpt-then-sft"}
    two = load_recipe("cpt-then-sft")
    assert [s.method for s in two.stages] == ["cpt", "sft"]
    assert load_recipe("sft-lora").stages[0].method == "sft"
    # the long recipe is sft-lora with more fact passes, the KL anchor and rank 64, nothing else (what RESULTS measured)
    recall, short = load_recipe("sft-lora-recall"), load_recipe("sft-lora")
    assert recall.stages[0].repeat == {"facts": 9} and recall.stages[0].kl_to_base == 1.0
    assert short.stages[0].kl_to_base == 0
    assert (recall.lora.r, recall.lora.alpha) == (64, 128)  # measured: more stored per unit of general text
    assert recall.lora.model_copy(update={"r": short.lora.r, "alpha": short.lora.alpha}) == short.lora
    assert recall.training == short.training
    assert recall.stages[0].learning_rate == short.stages[0].learning_rate
    for name in ("sft-lora", "sft-lora-recall"):  # the 0.5B diverged at SmolLM2's rate (bench/RESULTS.md)
        assert load_recipe(name, base_model="qwen2.5-coder-0.5b-instruct").stages[0].learning_rate == 3e-4
        assert load_recipe(name, base_model="smollm2-135m-instruct").stages[0].learning_rate == 1e-3
    assert recall.stages[0].epochs == short.stages[0].epochs


def test_unknown_key_is_named(tmp_path):
    path = tmp_path / "mine.yaml"
    path.write_text("name: mine\nstages: [{method: sft}]\ntraining: {lrr: 0.1}\n")
    with pytest.raises(InvalidInput, match=r"`training.lrr`: unknown key"):
        read_recipe_file(path)


def test_a_recipe_is_a_name_never_a_path(tmp_path):
    """API callers name recipes; a path (even to a valid recipe) must not be opened or probed."""
    valid = tmp_path / "valid.yaml"
    valid.write_text("name: valid\nstages: [{method: sft}]\n")
    for ref in (str(valid), "/etc/passwd", "../recipes/sft-lora", "sft-lora.yaml", "/etc/hostname.yaml"):
        with pytest.raises(InvalidInput, match="unknown recipe") as caught:
            load_recipe(ref)
        assert "root:" not in caught.value.message  # nothing of a file's content comes back


def test_bad_values_are_named():
    with pytest.raises(InvalidInput, match=r"`lora.r`"):
        load_recipe("sft-lora", {"lora.r": 0})
    with pytest.raises(InvalidInput, match=r"`stages.0.method`"):
        load_recipe("sft-lora", {"stages.0.method": "dpo"})
    with pytest.raises(InvalidInput, match=r"unknown recipe 'sft-lor'.*sft-lora"):
        load_recipe("sft-lor")


def test_overrides_reach_every_stage():
    recipe = load_recipe("cpt-then-sft", {"stages.*.max_steps": 7, "training.seq_len": 128})
    assert [s.max_steps for s in recipe.stages] == [7, 7]
    assert recipe.training.seq_len == 128


def test_precision_auto_follows_this_machines_speed_and_an_explicit_choice_wins(monkeypatch):
    """`bf16: auto` trains in bf16 where the CPU has AMX tiles or a bf16 matmul is timed clearly faster than a
    float32 one (an AMD EPYC here: 4.6x), and in float32 where it is slower (an Intel without tiles: 0.56x) or
    about even; true/false are obeyed as written."""
    from ownllm.tune import train

    recipe = load_recipe("sft-lora")
    assert recipe.training.bf16 == "auto"
    for has_tiles, speedup, bf16 in ((True, 0.5, True), (False, 4.6, True), (False, 0.56, False),
                                     (False, 1.1, False)):
        monkeypatch.setattr(torch.cpu, "_is_amx_tile_supported", lambda has=has_tiles: has)
        monkeypatch.setattr(train, "bf16_speedup", lambda measured=speedup: measured)
        assert train.uses_bf16(recipe) is bf16
        assert train.training_dtype(recipe) == (torch.bfloat16 if bf16 else torch.float32)
        assert train.uses_bf16(load_recipe("sft-lora", {"training.bf16": True})) is True
        assert train.uses_bf16(load_recipe("sft-lora", {"training.bf16": False})) is False
    with pytest.raises(InvalidInput, match=r"`training\.bf16.*auto"):
        load_recipe("sft-lora", {"training.bf16": "sometimes"})


def test_the_timing_is_real_and_a_resumed_run_keeps_the_precision_it_began_in(monkeypatch):
    """The speed-up is a measured ratio; a run's precision is settled once, and a resume takes what its job
    recorded even where this machine's timing now says otherwise."""
    from ownllm.tune import train

    measured = train.bf16_speedup.__wrapped__()  # uncached: times both matmuls now
    assert math.isfinite(measured) and measured > 0
    monkeypatch.setattr(torch.cpu, "_is_amx_tile_supported", lambda: False)
    monkeypatch.setattr(train, "bf16_speedup", lambda: 3.0)
    recipe = load_recipe("sft-lora")
    assert train.with_precision_decided(recipe).training.bf16 is True
    assert train.with_precision_decided(recipe, "float32").training.bf16 is False
    monkeypatch.setattr(train, "bf16_speedup", lambda: 0.5)
    assert train.with_precision_decided(recipe).training.bf16 is False
    assert train.with_precision_decided(recipe, "bf16").training.bf16 is True
    assert recipe.training.bf16 == "auto"  # the shipped recipe is not changed in place
    explicit = load_recipe("sft-lora", {"training.bf16": False})
    assert train.with_precision_decided(explicit, "bf16").training.bf16 is False  # written choices are obeyed


def test_rewording_a_recipe_keeps_its_interrupted_runs_resumable(home):
    """The resume key covers what decides the weights, not a recipe's description (prose); and an interrupted job
    is found by recomputing the key from the inputs it recorded, so one keyed under an older rule is found too."""
    tenant = create_tenant(home, "resume").id

    def plan(recipe: Recipe) -> TunePlan:
        params = {"recipe": recipe.model_dump(), "base_model": "smollm2-135m-instruct", "seed": 0}
        return TunePlan(TuneRequest(), recipe, [], params, resume_key(params))

    recall = load_recipe("sft-lora-recall")
    before = plan(recall.model_copy(update={"description": "the words the recipe had when the run began"}))
    tracker = JobTracker.create(home, JOB_KIND, tenant, {**before.params, "run_key": "keyed-under-an-older-rule"})
    tracker.fail(f"{INTERRUPTED}: its process ended before it finished; the next run resumes")
    assert plan(recall).key == before.key
    assert find_resumable(home, tenant, plan(recall)) == tracker.job_id
    assert find_resumable(home, tenant, plan(load_recipe("sft-lora-recall", {"lora.r": 16}))) is None


def test_a_stage_trains_each_named_base_at_its_own_rate_and_an_explicit_rate_wins(tmp_path):
    """A rate that suits one base can make a larger one diverge, so a recipe may name a rate per base: chosen when
    the recipe is loaded for that base, recorded as the one rate the run trains at, and overridden by `--set`."""
    path = tmp_path / "rates.yaml"
    path.write_text("name: rates\nstages: [{method: sft, learning_rate: 1.0e-3,\n"
                    "  learning_rate_by_base: {qwen2.5-coder-0.5b-instruct: 3.0e-4}}]\n")
    assert read_recipe_file(path, base_model="qwen2.5-coder-0.5b-instruct").stages[0].learning_rate == 3e-4
    assert read_recipe_file(path, base_model="smollm2-135m-instruct").stages[0].learning_rate == 1e-3
    chosen = read_recipe_file(path, base_model="qwen2.5-coder-0.5b-instruct").stages[0]
    assert chosen.learning_rate_by_base == {}  # spent: the run's record holds the rate it trained at
    for dotted in ("stages.0.learning_rate", "stages.*.learning_rate"):
        explicit = read_recipe_file(path, {dotted: 5e-4}, base_model="qwen2.5-coder-0.5b-instruct")
        assert explicit.stages[0].learning_rate == 5e-4
    # the table itself can be set too, and the rate comes from it
    retabled = read_recipe_file(path, {"stages.0.learning_rate_by_base": {"qwen2.5-coder-0.5b-instruct": 1e-4}},
                                base_model="qwen2.5-coder-0.5b-instruct")
    assert retabled.stages[0].learning_rate == 1e-4
    # a file made valid by its overrides stays usable (no name in it: `--set name=...`)
    path.with_name("nameless.yaml").write_text("stages: [{method: sft}]\n")
    assert read_recipe_file(path.with_name("nameless.yaml"), {"name": "given"}, "smollm2-135m-instruct").name == "given"
    path.write_text("name: rates\nstages: [{method: sft, learning_rate_by_base: {qwen2.5-0.5b: 3.0e-4}}]\n")
    with pytest.raises(InvalidInput, match=r"`stages.0.learning_rate_by_base`.*'qwen2.5-0.5b' is not a shipped base"):
        read_recipe_file(path, base_model="smollm2-135m-instruct")
    path.write_text("name: rates\nstages: [{method: sft, learning_rate_by_base: {smollm2-135m-instruct: 2}}]\n")
    with pytest.raises(InvalidInput, match=r"`stages.0.learning_rate_by_base.smollm2-135m-instruct`"):
        read_recipe_file(path, base_model="qwen2.5-coder-0.5b-instruct")


def test_a_run_recorded_before_rate_tables_existed_is_still_resumed(home):
    """Its recorded recipe has no `learning_rate_by_base`; the plan of the same inputs now holds a spent (empty)
    one, and must find it by its stored key and by the key recomputed from what it recorded."""
    tenant = create_tenant(home, "older").id
    recall = load_recipe("sft-lora-recall", base_model="smollm2-135m-instruct")
    params = {"recipe": recall.model_dump(), "base_model": "smollm2-135m-instruct", "seed": 0}
    older = {**params["recipe"], "stages": [{k: v for k, v in stage.items() if k != "learning_rate_by_base"}
                                            for stage in params["recipe"]["stages"]]}
    assert older != params["recipe"]
    recorded = {**params, "recipe": older}
    for stored_key in (resume_key(recorded), "keyed-under-an-older-rule"):
        tracker = JobTracker.create(home, JOB_KIND, tenant, {**recorded, "run_key": stored_key})
        tracker.fail(f"{INTERRUPTED}: its process ended before it finished; the next run resumes")
        plan = TunePlan(TuneRequest(), recall, [], params, resume_key(params))
        assert find_resumable(home, tenant, plan) == tracker.job_id
