"""Chat completions plumbing with the fake engine: OpenAI shapes, exact usage, clean 400s for bad
input, a 500 that keeps the connection, and a disconnect that stops the generation."""

from __future__ import annotations

import json
import time

import httpx
import openai

from ownllm.inference.pool import set_shared_pool
from ownllm.models.hub import DEFAULT_MODEL_ID
from tests.serve.conftest import Live

CHAT = "/v1/chat/completions"


def _body(content: object = "one two three", **extra: object) -> dict:
    return {"model": DEFAULT_MODEL_ID, "messages": [{"role": "user", "content": content}], **extra}


def _error(response: httpx.Response, status: int) -> dict:
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert set(error) == {"message", "type", "param", "code"} and error["message"]
    return error


def test_openai_client_round_trip_with_exact_usage(live: Live) -> None:
    client = openai.OpenAI(base_url=f"{live.url}/v1", api_key=live.acme, max_retries=0)
    reply = client.chat.completions.create(model=DEFAULT_MODEL_ID, messages=[{"role": "user", "content": "a b c"}])
    assert reply.choices[0].message.content == "c b a" and reply.choices[0].finish_reason == "stop"
    prompt = len("user: a b c\nassistant: ")  # the fake engine's template, one token per character
    assert reply.usage.prompt_tokens == prompt and reply.usage.completion_tokens == 3
    stream = client.chat.completions.create(model=DEFAULT_MODEL_ID, messages=[{"role": "user", "content": "a b c"}],
                                            stream=True, stream_options={"include_usage": True})
    chunks = list(stream)
    assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices) == "c b a"
    assert chunks[-1].usage.prompt_tokens == prompt and chunks[-1].usage.completion_tokens == 3


def test_bad_input_is_a_400_naming_the_field_not_a_500(live: Live) -> None:
    with httpx.Client(base_url=live.url, headers=live.auth(), timeout=30) as client:
        error = _error(client.post(CHAT, json=_body([{"type": "text", "text": 123}])), 400)
        assert error["param"].startswith("messages.0.content")
        error = _error(client.post(CHAT, json=_body([{"type": "image_url", "image_url": {"url": "x"}}])), 400)
        assert "only text parts" in error["message"]
        raw = json.dumps(_body("bad SURROGATE text")).replace("SURROGATE", "\\ud800")
        error = _error(client.post(CHAT, content=raw, headers={"content-type": "application/json"}), 400)
        assert "surrogate" in error["message"] and "messages[0].content" in error["message"]
        for path, body in (("/v1/search", '{"query": "x\\ud800"}'),
                           ("/v1/embeddings", '{"model": "multilingual-e5-small", "input": ["\\udfff"]}')):
            _error(client.post(path, content=body, headers={"content-type": "application/json"}), 400)
        _error(client.post(CHAT, json=_body(n=2)), 400)
        assert client.get("/health").status_code == 200  # the same client, still served


def test_an_unexpected_error_is_a_500_and_the_connection_stays_open(live: Live) -> None:
    with httpx.Client(base_url=live.url, headers=live.auth(), timeout=30) as client:
        crashed = client.post(CHAT, json=_body("EXPLODE"))
        error = _error(crashed, 500)
        assert error["type"] == "server_error" and "exploded" not in error["message"]  # no internals leak
        assert crashed.headers.get("connection") != "close"
        after = client.post(CHAT, json=_body("still alive"))
        assert after.status_code == 200 and after.json()["choices"][0]["message"]["content"] == "alive still"


def test_request_ids_are_echoed_and_openapi_is_public_but_docs_are_off(live: Live) -> None:
    response = httpx.get(f"{live.url}/health", headers={"x-request-id": "abc-123"})
    assert response.headers["x-request-id"] == "abc-123"
    assert httpx.get(f"{live.url}/health").headers["x-request-id"].startswith("req_")
    assert httpx.get(f"{live.url}/openapi.json").status_code == 200
    assert httpx.get(f"{live.url}/docs").status_code == 404


def test_a_client_that_disconnects_stops_its_generation(tmp_path) -> None:
    from tests.serve.conftest import start_live

    slow, server, thread = start_live(tmp_path / "slow", delay_s=0.05)
    try:
        words = " ".join(f"w{i}" for i in range(200))
        with httpx.stream("POST", f"{slow.url}{CHAT}", json=_body(words, stream=True, max_tokens=200),
                          headers=slow.auth(), timeout=30) as response:
            for line in response.iter_lines():
                if line.startswith("data: ") and '"content": "w' in line:
                    break  # got a token: hang up
        time.sleep(1.0)
        [engine] = slow.pool.made
        produced_soon = engine.generations
        assert produced_soon == 1
        # the worker is free again long before 200 tokens x 50 ms = 10 s would have passed
        started = time.monotonic()
        reply = httpx.post(f"{slow.url}{CHAT}", json=_body("x y"), headers=slow.auth(), timeout=30)
        assert reply.json()["choices"][0]["message"]["content"] == "y x"
        assert time.monotonic() - started < 5
    finally:
        server.should_exit = True
        thread.join(10)


def test_streams_end_with_done_and_a_mid_stream_error_is_an_event(live: Live) -> None:
    with httpx.stream("POST", f"{live.url}{CHAT}", json=_body("EXPLODE now", stream=True), headers=live.auth(),
                      timeout=30) as response:
        assert response.status_code == 200
        events = [line.removeprefix("data: ") for line in response.iter_lines() if line.startswith("data: ")]
    assert events[-1] == "[DONE]"
    assert json.loads(events[-2])["error"]["type"] == "server_error"


def test_a_quiet_stream_gets_keepalive_comments_that_clients_skip(tmp_path) -> None:
    """Tokens 0.3 s apart and a 0.1 s keep-alive: SSE comment lines fill the gaps (a proxy's idle timer
    sees traffic) and the openai client reads the same stream as if they were not there."""
    from tests.serve.conftest import start_live

    slow, server, thread = start_live(tmp_path / "quiet", delay_s=0.3, stream_keepalive_s=0.1)
    try:
        with httpx.stream("POST", f"{slow.url}{CHAT}", json=_body("a b c", stream=True), headers=slow.auth(),
                          timeout=30) as response:
            lines = [line for line in response.iter_lines() if line]
        assert sum(line == ": keep-alive" for line in lines) >= 3
        contents = [json.loads(line.removeprefix("data: "))["choices"][0]["delta"].get("content")
                    for line in lines if line.startswith("data: {")]
        assert "".join(c for c in contents if c) == "c b a" and lines[-1] == "data: [DONE]"
        client = openai.OpenAI(base_url=f"{slow.url}/v1", api_key=slow.acme, max_retries=0)
        chunks = list(client.chat.completions.create(model=DEFAULT_MODEL_ID, stream=True,
                                                     messages=[{"role": "user", "content": "a b c"}]))
        assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices) == "c b a"
        text = httpx.post(f"{slow.url}/v1/completions", json={"model": DEFAULT_MODEL_ID, "prompt": "x y",
                                                              "stream": True}, headers=slow.auth(), timeout=30)
        assert ": keep-alive" in text.text.splitlines() and text.text.rstrip().endswith("data: [DONE]")
        # a tool call is sent whole at the end: while it is written, keep-alives go out between its tokens
        tools = [{"type": "function", "function": {"name": "lookup", "parameters": {"type": "object"}}}]
        called = httpx.post(f"{slow.url}{CHAT}", json=_body("a b c d", stream=True, tools=tools),
                            headers=slow.auth(), timeout=30).text.split("\n\n")
        assert ": keep-alive" in called and called[-2] == "data: [DONE]"
        # 0 turns keep-alives off, for clients that parse every line
        slow.home.settings.stream_keepalive_s = 0
        quiet = httpx.post(f"{slow.url}{CHAT}", json=_body("a b c", stream=True), headers=slow.auth(), timeout=30)
        assert ": keep-alive" not in quiet.text and quiet.text.rstrip().endswith("data: [DONE]")
    finally:
        server.should_exit = True
        thread.join(10)
        set_shared_pool(None)
