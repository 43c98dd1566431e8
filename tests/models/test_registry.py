"""The model registry: shipped base models, tenants' tuned models only for their tenant, engine specs."""

from __future__ import annotations

import pytest

from ownllm.errors import NotFound
from ownllm.models.hub import DEFAULT_MODEL_ID, SMOLLM2_135M
from ownllm.models.registry import list_models, resolve_model
from ownllm.store.catalog import TunedModel
from ownllm.store.home import Home
from ownllm.store.tenants import create_tenant
from ownllm.tune.run import JOB_KIND


def _tuned(home: Home, tenant_id: str, model_id: str, adapter: str) -> None:
    from ownllm.jobs.tracker import JobTracker

    job = JobTracker.create(home, JOB_KIND, tenant_id)
    with home.catalog.session() as session:
        session.add(TunedModel(id=model_id, tenant_id=tenant_id, base_model=DEFAULT_MODEL_ID, job_id=job.job_id,
                               adapter_path="/nowhere", exports={"adapter": adapter}))


def test_base_models_are_listed_for_everyone(home: Home) -> None:
    entry = resolve_model(home, None, DEFAULT_MODEL_ID)
    assert entry.kind == "base" and entry.path == SMOLLM2_135M.locate() and entry.lora is None
    spec = entry.spec(n_ctx=1024)
    assert spec.model_path == entry.path and spec.n_ctx == 1024 and not spec.logits_all


def test_a_tuned_model_is_visible_to_its_tenant_only(home: Home, tmp_path) -> None:
    owner, other = create_tenant(home, "owner").id, create_tenant(home, "other").id
    adapter = tmp_path / "adapter.gguf"
    adapter.write_bytes(b"GGUF")
    _tuned(home, owner, "ft:smollm2-135m-instruct:owner:x:1", str(adapter))
    assert "ft:smollm2-135m-instruct:owner:x:1" in {m.id for m in list_models(home, owner)}
    entry = resolve_model(home, owner, "ft:smollm2-135m-instruct:owner:x:1")
    assert entry.spec().lora_path == adapter
    with pytest.raises(NotFound) as caught:
        resolve_model(home, other, "ft:smollm2-135m-instruct:owner:x:1")
    with pytest.raises(NotFound) as unknown:
        resolve_model(home, other, "ft:nobody")
    # indistinguishable from a model that does not exist
    assert caught.value.message.replace("smollm2-135m-instruct:owner:x:1", "") == \
        unknown.value.message.replace("nobody", "")
    assert caught.value.code == unknown.value.code == "model_not_found"
