"""More of the OpenAI surface with the fake engine: text completions, fine-tune files checked line by
line, the Batch API end to end (input file → job → output and error files), file downloads, and
another tenant's batches and files answering 404."""

from __future__ import annotations

import json
import time

import httpx
import openai

from ownllm.models.hub import DEFAULT_MODEL_ID
from tests.serve.conftest import Live


def _client(live: Live, key: str | None = None) -> openai.OpenAI:
    return openai.OpenAI(base_url=f"{live.url}/v1", api_key=key or live.acme, max_retries=0, timeout=60)


def test_text_completions_in_openai_shape(live: Live) -> None:
    reply = _client(live).completions.create(model=DEFAULT_MODEL_ID, prompt="user: red green blue", max_tokens=2)
    assert reply.object == "text_completion" and reply.choices[0].text == "blue green"
    assert reply.choices[0].finish_reason == "length" and reply.usage.completion_tokens == 2
    stream = _client(live).completions.create(model=DEFAULT_MODEL_ID, prompt="user: a b", stream=True)
    assert "".join(chunk.choices[0].text for chunk in stream if chunk.choices) == "b a"
    bad = httpx.post(f"{live.url}/v1/completions", headers=live.auth(), timeout=30,
                     json={"model": DEFAULT_MODEL_ID, "prompt": "x", "echo": True})
    assert bad.status_code == 400 and "echo" in bad.json()["error"]["message"]


def test_fine_tune_files_are_checked_line_by_line(live: Live) -> None:
    good = "\n".join(json.dumps(r) for r in [
        {"messages": [{"role": "user", "content": "Q?"}, {"role": "assistant", "content": "A."}]},
        {"prompt": "Capital of France?", "completion": "Paris."}, {"text": "Plain text to continue."}])
    created = _client(live).files.create(file=("train.jsonl", good.encode()), purpose="fine-tune")
    assert created.purpose == "fine-tune" and created.status == "processed"
    assert _client(live).files.content(created.id).read() == good.encode()
    bad = "\n".join([json.dumps({"messages": [{"role": "user", "content": "Q?"}]}), "{not json",
                     json.dumps({"messages": [{"role": "pirate", "content": "arr"}]}), json.dumps({"x": 1})])
    response = httpx.post(f"{live.url}/v1/files", headers=live.auth(), data={"purpose": "fine-tune"},
                          files={"file": ("bad.jsonl", bad.encode())}, timeout=30)
    assert response.status_code == 400
    message = response.json()["error"]["message"]
    for expected in ("line 1 has no assistant message", "line 2 is not valid JSON",
                     "line 3: messages[0].role must be", "line 4 needs `messages`"):
        assert expected in message, message
    listed = {f.filename for f in _client(live).files.list().data}
    assert "bad.jsonl" not in listed and "train.jsonl" in listed


def test_batches_run_requests_and_write_output_and_error_files(live: Live) -> None:
    lines = [{"custom_id": "one", "method": "POST", "url": "/v1/chat/completions",
              "body": {"model": DEFAULT_MODEL_ID, "messages": [{"role": "user", "content": "alpha beta"}]}},
             {"custom_id": "two", "method": "POST", "url": "/v1/chat/completions",
              "body": {"model": DEFAULT_MODEL_ID, "messages": [{"role": "user", "content": "gamma delta"}]}},
             {"custom_id": "broken", "method": "POST", "url": "/v1/chat/completions",
              "body": {"model": "no-such-model", "messages": [{"role": "user", "content": "x"}]}}]
    client = _client(live)
    upload = client.files.create(file=("batch.jsonl", "\n".join(json.dumps(x) for x in lines).encode()),
                                 purpose="batch")
    batch = client.batches.create(input_file_id=upload.id, endpoint="/v1/chat/completions", completion_window="24h",
                                  metadata={"run": "nightly"})
    assert batch.status in ("validating", "in_progress", "completed")
    deadline = time.monotonic() + 60
    while (batch := client.batches.retrieve(batch.id)).status not in ("completed", "failed", "cancelled"):
        assert time.monotonic() < deadline, batch
        time.sleep(0.2)
    assert batch.status == "completed" and batch.metadata == {"run": "nightly"}
    assert batch.request_counts.total == 3 and batch.request_counts.completed == 2 and batch.request_counts.failed == 1
    output = [json.loads(x) for x in client.files.content(batch.output_file_id).text.splitlines()]
    answers = {row["custom_id"]: row["response"]["body"]["choices"][0]["message"]["content"] for row in output}
    assert answers == {"one": "beta alpha", "two": "delta gamma"}
    errors = [json.loads(x) for x in client.files.content(batch.error_file_id).text.splitlines()]
    assert errors[0]["custom_id"] == "broken" and errors[0]["error"]["code"] == "model_not_found"
    assert batch.id in {b.id for b in client.batches.list().data}
    other = _client(live, live.globex)
    for call in (lambda: other.batches.retrieve(batch.id), lambda: other.files.content(batch.output_file_id)):
        try:
            call()
        except openai.NotFoundError:
            continue
        raise AssertionError("another tenant reached a batch or its output")
    live.flush_usage()
    usage = httpx.get(f"{live.url}/v1/usage", params={"group_by": "endpoint"}, headers=live.auth(), timeout=30)
    batches = next(row for row in usage.json()["data"] if row["group"] == "/v1/batches")
    assert batches["completion_tokens"] == 4 and batches["requests"] >= 3  # calls to /v1/batches, and each line


def test_a_batch_line_for_another_endpoint_is_refused(live: Live) -> None:
    line = {"custom_id": "e", "method": "POST", "url": "/v1/embeddings",
            "body": {"model": "multilingual-e5-small", "input": "x"}}
    upload = _client(live).files.create(file=("b.jsonl", json.dumps(line).encode()), purpose="batch")
    response = httpx.post(f"{live.url}/v1/batches", headers=live.auth(), timeout=30, json={
        "input_file_id": upload.id, "endpoint": "/v1/chat/completions", "completion_window": "24h"})
    assert response.status_code == 400 and "line 1" in response.json()["error"]["message"]
