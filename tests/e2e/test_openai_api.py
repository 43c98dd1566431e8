"""The OpenAI-compatible API over real HTTP, driven by the official `openai` client.

Uses the real bundled model (SmolLM2-135M-Instruct GGUF via llama.cpp); answers are
greedy (temperature 0) so they are reproducible.
"""

from __future__ import annotations

import json

import httpx
import openai
import pytest

from ownllm.models.hub import DEFAULT_MODEL_ID
from tests.e2e.conftest import Server


def _client(server: Server, key: str) -> openai.OpenAI:
    return openai.OpenAI(base_url=f"{server.base_url}/v1", api_key=key, max_retries=0, timeout=120)


def _assert_openai_error(response: httpx.Response, status: int, code: str | None = None) -> dict:
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert set(error) == {"message", "type", "param", "code"}
    assert error["message"]
    if code is not None:
        assert error["code"] == code
    return error


def test_models_lists_the_shipped_base_model(server: Server) -> None:
    models = _client(server, server.acme_key).models.list()
    assert DEFAULT_MODEL_ID in [m.id for m in models.data]


def test_plain_chat_completion_is_a_real_and_reproducible_forward_pass(server: Server) -> None:
    client = _client(server, server.acme_key)

    def ask() -> openai.types.chat.ChatCompletion:
        return client.chat.completions.create(
            model=DEFAULT_MODEL_ID, messages=[{"role": "user", "content": "What is 2+2?"}],
            temperature=0, max_tokens=24,
        )

    response = ask()
    assert response.object == "chat.completion"
    assert response.choices[0].message.role == "assistant"
    assert "4" in (response.choices[0].message.content or "")
    assert response.usage is not None and response.usage.prompt_tokens > 0
    assert 0 < response.usage.completion_tokens <= 24
    assert ask().choices[0].message.content == response.choices[0].message.content  # greedy is deterministic


def test_knowledge_answer_states_the_fact_and_cites_its_document(server: Server) -> None:
    response = _client(server, server.acme_key).chat.completions.create(
        model=DEFAULT_MODEL_ID, temperature=0, max_tokens=60,
        messages=[{"role": "user", "content": "How long is the frame warranty on Veltrano bikes?"}],
        extra_body={"knowledge": {"top_k": 5}},
    )
    citations = response.model_extra["citations"]
    assert citations[0]["document"] == "warranty_policy.pdf"
    assert citations[0]["page"] == 1
    assert "10 years" in citations[0]["quote"]
    assert "10 years" in (response.choices[0].message.content or "")


def test_chinese_question_retrieves_and_cites_the_chinese_source(server: Server) -> None:
    response = _client(server, server.acme_key).chat.completions.create(
        model=DEFAULT_MODEL_ID, temperature=0, max_tokens=40,
        messages=[{"role": "user", "content": "收货后多少天内可以退货？"}],
        extra_body={"knowledge": {"top_k": 3}},
    )
    citations = response.model_extra["citations"]
    assert citations[0]["document"] == "保修政策.docx"
    assert citations[0]["location"] == "section “退货”"


def test_streaming_yields_well_formed_sse_ending_with_done(server: Server) -> None:
    body = {"model": DEFAULT_MODEL_ID, "stream": True, "temperature": 0, "max_tokens": 30,
            "messages": [{"role": "user", "content": "What is the support phone number?"}],
            "knowledge": {"top_k": 3}, "stream_options": {"include_usage": True}}
    headers = {"Authorization": f"Bearer {server.acme_key}"}
    events = []
    with httpx.stream("POST", f"{server.base_url}/v1/chat/completions", json=body, headers=headers,
                      timeout=120) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        raw = "".join(response.iter_text())
    blocks = [b for b in raw.split("\n\n") if b]
    for block in blocks:
        assert block.startswith("data: "), block
        events.append(block.removeprefix("data: "))
    assert events[-1] == "[DONE]"
    chunks = [json.loads(e) for e in events[:-1]]
    assert all(c["object"] == "chat.completion.chunk" for c in chunks)
    assert len({c["id"] for c in chunks}) == 1
    assert chunks[0]["choices"][0]["delta"]["role"] == "assistant"
    assert chunks[0]["citations"][0]["document"] == "support_faq.html"
    finishes = [c["choices"][0]["finish_reason"] for c in chunks if c["choices"]]
    assert finishes[-1] in ("stop", "length") and all(f is None for f in finishes[:-1])
    assert chunks[-1]["choices"] == [] and chunks[-1]["usage"]["completion_tokens"] > 0
    text = "".join(c["choices"][0]["delta"].get("content", "") for c in chunks if c["choices"])
    assert text.strip()


def test_streaming_through_the_openai_client(server: Server) -> None:
    stream = _client(server, server.acme_key).chat.completions.create(
        model=DEFAULT_MODEL_ID, temperature=0, max_tokens=16, stream=True,
        messages=[{"role": "user", "content": "Say hello."}],
    )
    text = "".join(chunk.choices[0].delta.content or "" for chunk in stream if chunk.choices)
    assert text.strip()


def test_another_tenants_key_cannot_reach_acme_corpus(server: Server) -> None:
    headers = {"Authorization": f"Bearer {server.globex_key}"}
    chat = httpx.post(f"{server.base_url}/v1/chat/completions", headers=headers, timeout=60, json={
        "model": DEFAULT_MODEL_ID, "messages": [{"role": "user", "content": "warranty?"}],
        "knowledge": {"corpus": server.acme_version_id}})
    _assert_openai_error(chat, 404, "corpus_not_found")
    found = httpx.post(f"{server.base_url}/v1/search", headers=headers, timeout=60,
                       json={"query": "warranty", "corpus": server.acme_version_id})
    _assert_openai_error(found, 404, "corpus_not_found")
    own = httpx.post(f"{server.base_url}/v1/search", headers=headers, timeout=60,
                     json={"query": "days of leave warranty price VM-A500"}).json()["data"]
    acme_files = {p.name for p in (server.acme_dropbox).iterdir()}
    assert "globex_handbook.md" in {hit["file_name"] for hit in own}
    assert not {hit["file_name"] for hit in own} & acme_files
    versions = httpx.get(f"{server.base_url}/v1/corpus", headers=headers, timeout=60).json()["data"]
    assert server.globex_version_id in [v["id"] for v in versions]
    assert server.acme_version_id not in [v["id"] for v in versions]


def test_acme_search_over_http_matches_its_own_corpus(server: Server) -> None:
    response = httpx.post(f"{server.base_url}/v1/search", timeout=60,
                          headers={"Authorization": f"Bearer {server.acme_key}"},
                          json={"query": "annual leave days", "top_k": 3})
    data = response.json()["data"]
    assert data[0]["file_name"] == "employee_handbook.docx"
    assert "globex" not in json.dumps(data)


@pytest.mark.parametrize("header", [None, "Bearer wrong", "Bearer ol-key_nope-secret", "Basic abc"])
def test_missing_or_wrong_keys_get_401(server: Server, header: str | None) -> None:
    headers = {"Authorization": header} if header else {}
    _assert_openai_error(httpx.get(f"{server.base_url}/v1/models", headers=headers), 401)


def test_revoked_key_gets_401_through_the_openai_client(server: Server) -> None:
    with pytest.raises(openai.AuthenticationError) as caught:
        _client(server, server.revoked_key).models.list()
    assert caught.value.status_code == 401
    assert caught.value.code == "revoked_api_key"


def test_invalid_requests_get_openai_shaped_errors(server: Server) -> None:
    headers = {"Authorization": f"Bearer {server.acme_key}"}
    url = f"{server.base_url}/v1/chat/completions"
    error = _assert_openai_error(httpx.post(url, headers=headers, json={"model": DEFAULT_MODEL_ID}), 400)
    assert error["param"] == "messages"
    _assert_openai_error(httpx.post(url, headers=headers, json={
        "model": "gpt-9", "messages": [{"role": "user", "content": "hi"}]}), 404, "model_not_found")
    _assert_openai_error(httpx.post(url, headers=headers, json={
        "model": DEFAULT_MODEL_ID, "max_tokens": 100000,
        "messages": [{"role": "user", "content": "hi"}]}), 400, "context_length_exceeded")
    _assert_openai_error(httpx.post(f"{server.base_url}/v1/search", headers=headers, json={"query": " "}),
                         400, "invalid_value")


def test_embeddings_endpoint_through_the_openai_client(server: Server) -> None:
    client = _client(server, server.acme_key)
    result = client.embeddings.create(model="multilingual-e5-small",
                                      input=["The frame warranty lasts ten years.", "维川车架质保十年。"])
    assert [d.index for d in result.data] == [0, 1]
    assert all(len(d.embedding) == 384 for d in result.data)
    assert result.data[0].embedding != result.data[1].embedding
    import numpy as np

    a, b = (np.array(d.embedding) for d in result.data)
    assert abs(np.linalg.norm(a) - 1) < 1e-3 and a @ b > 0.8  # the same fact across languages
    with pytest.raises(openai.NotFoundError):
        client.embeddings.create(model="no-such-embedder", input="x")


def test_search_modes_and_filters_over_http(server: Server) -> None:
    url, headers = f"{server.base_url}/v1/search", {"Authorization": f"Bearer {server.acme_key}"}
    for mode in ("hybrid", "lexical", "dense"):
        data = httpx.post(url, headers=headers, timeout=60, json={"query": "annual leave days", "mode": mode}).json()
        assert data["data"][0]["file_name"] == "employee_handbook.docx", mode
    filtered = httpx.post(url, headers=headers, timeout=60, json={
        "query": "warranty", "top_k": 10, "filters": {"types": ["docx"]}}).json()["data"]
    assert filtered and all(hit["file_name"].endswith(".docx") for hit in filtered)
