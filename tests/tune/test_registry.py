"""A tuned SmolLM2 joins its tenant's model list (only that tenant's), servable as base GGUF + GGUF LoRA."""

from __future__ import annotations

from ownllm.inference.engine import SamplingParams
from ownllm.inference.pool import EnginePool
from ownllm.models.hub import SMOLLM2_135M
from ownllm.models.registry import list_models, resolve_model
from ownllm.store.tenants import create_tenant
from ownllm.tune.run import TuneRequest, tune


def test_tuned_model_is_registered_for_its_tenant_only(home, qa_file):
    owner, stranger = create_tenant(home, "owner"), create_tenant(home, "stranger")
    request = TuneRequest(training_file=qa_file, dataset=None, suffix="parts",
                          overrides={"stages.0.max_steps": 2, "stages.0.learning_rate": 2e-3,
                                     "training.seq_len": 128, "training.batch_size": 2, "training.grad_accum": 1})
    outcome = tune(home, owner.id, request)
    assert outcome.model_id.startswith(f"ft:{SMOLLM2_135M.id}:owner:parts:")
    owned = {m.id: m for m in list_models(home, owner.id)}
    assert outcome.model_id in owned and SMOLLM2_135M.id in owned
    assert outcome.model_id not in {m.id for m in list_models(home, stranger.id)}
    entry = resolve_model(home, owner.id, outcome.model_id)
    assert entry.kind == "tuned" and entry.lora is not None and entry.lora.suffix == ".gguf"
    assert entry.path == SMOLLM2_135M.locate()
    pool = EnginePool(1 << 30)
    engine = pool.handle(entry.spec(n_ctx=512, n_threads=2))
    reply = engine.chat([{"role": "user", "content": "What is the code of part 3?"}], SamplingParams(max_tokens=12))
    assert reply.completion_tokens > 0 and reply.text.strip()
    pool.close()
