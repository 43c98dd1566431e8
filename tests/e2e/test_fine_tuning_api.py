"""`/v1/fine_tuning/jobs` against the real server: synthesize + tune SmolLM2, then chat with the result."""

from __future__ import annotations

import time

import httpx
import pytest

SHORT = {"training.seq_len": 128, "training.batch_size": 2, "training.grad_accum": 1,
         "stages.0.learning_rate": 2e-3, "training.save_every": 1}


def _client(server, key: str) -> httpx.Client:
    return httpx.Client(base_url=f"{server.base_url}/v1", headers={"Authorization": f"Bearer {key}"}, timeout=120)


def _wait(client: httpx.Client, job_id: str, until: set[str], timeout: float = 400) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = client.get(f"/fine_tuning/jobs/{job_id}").json()
        if job["status"] in until:
            return job
        time.sleep(0.5)
    raise AssertionError(f"job {job_id} still {job['status']}")


@pytest.fixture(scope="module")
def finished(server):
    with _client(server, server.acme_key) as client:
        response = client.post("/fine_tuning/jobs", json={
            "model": "smollm2-135m-instruct", "corpus_version": "latest", "suffix": "api",
            # grounded records off: the 2-step adapter they give sits at a near tie for the question below
            # ("10 years" vs a sentence), where one process's greedy pick differed from another's (seen once)
            "hyperparameters": {"max_steps": 2}, "recipe_overrides": SHORT,
            "synth": {"replay_prompts": 2, "grounded": False}})
        assert response.status_code == 200, response.text
        created = response.json()
        assert created["object"] == "fine_tuning.job" and created["status"] == "validating_files"
        return created, _wait(client, created["id"], {"succeeded", "failed", "cancelled"})


def test_job_runs_to_a_served_model_with_events_and_checkpoints(server, finished, acme):
    import json

    created, job = finished
    assert job["status"] == "succeeded", job["error"]
    model = job["fine_tuned_model"]
    assert model.startswith("ft:smollm2-135m-instruct:acme:api:") and job["trained_tokens"] > 0
    with _client(server, server.acme_key) as client:
        events = client.get(f"/fine_tuning/jobs/{job['id']}/events").json()["data"]
        metrics = [e for e in events if e["type"] == "metrics"]
        assert len(metrics) == 2 and {"loss", "lr", "tokens_per_s"} <= set(metrics[0]["data"])
        messages = [e["message"] for e in reversed(events)]
        assert messages.index("status: queued") < messages.index("job started") < messages.index("job succeeded")
        checkpoints = client.get(f"/fine_tuning/jobs/{job['id']}/checkpoints").json()["data"]
        assert [c["step_number"] for c in checkpoints] == [2, 1]
        shown = json.dumps([job, events, checkpoints])
        assert str(acme.home.root) not in shown and "/tmp/" not in shown  # no server paths reach a tenant
        assert checkpoints[0]["metrics"]["train_loss"] is not None
        assert model in {m["id"] for m in client.get("/models").json()["data"]}
        reply = client.post("/chat/completions", json={
            "model": model, "max_tokens": 8, "temperature": 0,
            "messages": [{"role": "user", "content": "How much does the VM-A300 cost?"}]})
        assert reply.status_code == 200, reply.text
        assert reply.json()["model"] == model and reply.json()["usage"]["completion_tokens"] > 0
        listed = client.get("/fine_tuning/jobs").json()["data"]
        assert created["id"] in {j["id"] for j in listed}


def test_other_tenants_see_neither_the_job_nor_the_model(server, finished):
    _, job = finished
    with _client(server, server.globex_key) as client:
        assert client.get(f"/fine_tuning/jobs/{job['id']}").status_code == 404
        assert job["fine_tuned_model"] not in {m["id"] for m in client.get("/models").json()["data"]}
        chat = client.post("/chat/completions", json={"model": job["fine_tuned_model"],
                                                      "messages": [{"role": "user", "content": "hi"}]})
        assert chat.status_code == 404 and chat.json()["error"]["code"] == "model_not_found"
        assert client.get("/fine_tuning/jobs").json()["data"] == []


def test_bad_requests_are_400_with_the_key_named(server):
    with _client(server, server.acme_key) as client:
        typo = client.post("/fine_tuning/jobs", json={"model": "smollm2-135m-instruct", "corpus_version": "latest",
                                                      "recipe_overrides": {"training.seq_lenn": 64}})
        assert typo.status_code == 400 and "training.seq_lenn" in typo.json()["error"]["message"]
        unknown = client.post("/fine_tuning/jobs", json={"model": "gpt-9", "corpus_version": "latest"})
        assert unknown.status_code == 400 and unknown.json()["error"]["param"] == "model"
        synth = client.post("/fine_tuning/jobs", json={"model": "smollm2-135m-instruct", "corpus_version": "latest",
                                                       "synth": {"replay_promts": 2}})
        assert synth.status_code == 400 and "replay_promts" in synth.json()["error"]["message"]
        missing = client.post("/fine_tuning/jobs", json={"model": "smollm2-135m-instruct", "training_file": "ds_nope"})
        assert missing.status_code == 404


def test_cancel_stops_a_running_job(server, finished):
    with _client(server, server.acme_key) as client:
        created = client.post("/fine_tuning/jobs", json={
            "model": "smollm2-135m-instruct", "training_file": finished[1]["training_file"] or "latest",
            "hyperparameters": {"max_steps": 500}, "recipe_overrides": SHORT}).json()
        _wait(client, created["id"], {"running"}, timeout=120)
        cancelled = client.post(f"/fine_tuning/jobs/{created['id']}/cancel").json()
        assert cancelled["status"] == "cancelled"
        time.sleep(3)
        job = client.get(f"/fine_tuning/jobs/{created['id']}").json()
        assert job["status"] == "cancelled" and job["fine_tuned_model"] is None
        assert job["progress"]["done"] < 500


def test_api_cli_and_evaluation_give_the_same_answer_and_citations(server, finished, acme):
    """One answer path: chat with knowledge over HTTP, `ownllm ask`, and the eval's tuned+RAG system."""
    import json
    import subprocess
    import sys

    from ownllm.evaluate.systems import MAX_ANSWER_TOKENS, System, ask_system
    from ownllm.inference.pool import EnginePool
    from ownllm.models.registry import resolve_model
    from tests.conftest import server_env

    _, job = finished
    model, question = job["fine_tuned_model"], "How long is the frame warranty on Veltrano bikes?"
    with _client(server, server.acme_key) as client:
        reply = client.post("/chat/completions", json={
            "model": model, "temperature": 0, "max_tokens": MAX_ANSWER_TOKENS, "knowledge": {},
            "messages": [{"role": "user", "content": question}]}).json()
    api_text, api_cited = reply["choices"][0]["message"]["content"], [c["chunk_id"] for c in reply["citations"]]
    cli = subprocess.run([sys.executable, "-m", "ownllm", "ask", "acme", question, "--model", model, "--max-tokens",
                          str(MAX_ANSWER_TOKENS), "--json"], capture_output=True, text=True, timeout=300,
                         env=server_env(acme.home), check=True)
    asked = json.loads(cli.stdout)
    pool = EnginePool(2 << 30)
    system = System("tuned+RAG", resolve_model(acme.home, acme.tenant_id, model), rag=True)
    evaluated = ask_system(acme.home, pool, acme.tenant_id, system, question)
    pool.close()
    assert api_cited and api_text
    assert asked["answer"] == api_text == evaluated.answer
    assert [c["chunk_id"] for c in asked["citations"]] == api_cited
    assert evaluated.cited_sources == [c["document"] for c in reply["citations"]]


def test_an_uploaded_jsonl_trains_a_model_addressed_as_base_colon_adapter(server, finished):
    import json

    records = [{"messages": [{"role": "user", "content": f"What is the code of part {i}?"},
                             {"role": "assistant", "content": f"Part {i} has code VM-{1000 + 7 * i}."}]}
               for i in range(8)]
    with _client(server, server.acme_key) as client:
        upload = client.post("/files", data={"purpose": "fine-tune"}, files={
            "file": ("parts.jsonl", "\n".join(json.dumps(r) for r in records).encode())}).json()
        assert upload["purpose"] == "fine-tune" and upload["status"] == "processed"
        created = client.post("/fine_tuning/jobs", json={
            "model": "smollm2-135m-instruct", "training_file": upload["id"], "suffix": "parts",
            "hyperparameters": {"max_steps": 1}, "recipe_overrides": SHORT})
        assert created.status_code == 200, created.text
        job = _wait(client, created.json()["id"], {"succeeded", "failed", "cancelled"})
        assert job["status"] == "succeeded", job["error"]
        assert job["training_file"] == upload["id"] and ":acme:parts:" in job["fine_tuned_model"]
        for alias in ("smollm2-135m-instruct:parts", f"smollm2-135m-instruct:{job['fine_tuned_model'].split(':')[-1]}"):
            reply = client.post("/chat/completions", json={"model": alias, "max_tokens": 6,
                                                           "messages": [{"role": "user", "content": "Part 3?"}]})
            assert reply.status_code == 200, reply.text
        assert client.post("/chat/completions", json={"model": "smollm2-135m-instruct:nope", "messages": [
            {"role": "user", "content": "x"}]}).status_code == 404
    with _client(server, server.globex_key) as client:  # another tenant's adapter alias is not there
        assert client.post("/chat/completions", json={"model": "smollm2-135m-instruct:parts", "messages": [
            {"role": "user", "content": "x"}]}).status_code == 404
