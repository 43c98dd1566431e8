"""The OpenAI surface on the real model through the unmodified `openai` client: constrained JSON
(always parses, validates against the schema), tool calls in OpenAI's shape, logprobs, seeded
sampling, text completions, a batch, and several requests decoded together."""

from __future__ import annotations

import json
import threading
import time

import jsonschema
import openai
import pytest

from ownllm.models.hub import DEFAULT_MODEL_ID
from tests.e2e.conftest import Server

WEATHER = [{"type": "function", "function": {
    "name": "get_weather", "description": "Current weather for a city",
    "parameters": {"type": "object", "properties": {"city": {"type": "string"}, "unit": {"enum": ["C", "F"]}},
                   "required": ["city", "unit"]}}}]
CITY = {"type": "object", "properties": {"city": {"type": "string"}, "population": {"type": "integer"},
                                         "river": {"type": "string"}},
        "required": ["city", "population"], "additionalProperties": False}


def _client(server: Server) -> openai.OpenAI:
    return openai.OpenAI(base_url=f"{server.base_url}/v1", api_key=server.acme_key, max_retries=0, timeout=180)


def _ask(server: Server, content: str, **options: object) -> object:
    return _client(server).chat.completions.create(
        model=DEFAULT_MODEL_ID, messages=[{"role": "user", "content": content}], temperature=0, **options)


@pytest.mark.engine_bound
def test_json_schema_output_always_parses_and_validates(server: Server) -> None:
    for question in ("Give the largest city of France and its population as JSON.",
                     "Describe Berlin as JSON.", "Tell me about a river."):
        reply = _ask(server, question, max_tokens=80, response_format={
            "type": "json_schema", "json_schema": {"name": "city", "schema": CITY, "strict": True}})
        assert reply.choices[0].finish_reason == "stop"
        jsonschema.validate(json.loads(reply.choices[0].message.content), CITY)
    anything = _ask(server, "Describe a cat.", max_tokens=80, response_format={"type": "json_object"})
    assert isinstance(json.loads(anything.choices[0].message.content), dict)


@pytest.mark.engine_bound
def test_tool_calls_come_back_in_openai_shape(server: Server) -> None:
    for choice in ("required", {"type": "function", "function": {"name": "get_weather"}}):
        reply = _ask(server, "What is the weather in Paris?", max_tokens=60, tools=WEATHER, tool_choice=choice)
        [call] = reply.choices[0].message.tool_calls
        assert reply.choices[0].finish_reason == "tool_calls" and reply.choices[0].message.content is None
        assert call.type == "function" and call.function.name == "get_weather" and call.id.startswith("call_")
        jsonschema.validate(json.loads(call.function.arguments), WEATHER[0]["function"]["parameters"])
    ignored = _ask(server, "What is the weather in Paris?", max_tokens=20, tools=WEATHER, tool_choice="none")
    assert ignored.choices[0].message.tool_calls is None and ignored.choices[0].message.content
    follow_up = _client(server).chat.completions.create(model=DEFAULT_MODEL_ID, temperature=0, max_tokens=20, messages=[
        {"role": "user", "content": "What is the weather in Paris?"},
        {"role": "assistant", "content": None, "tool_calls": [call.model_dump()]},
        {"role": "tool", "tool_call_id": call.id, "content": '{"temp": 21, "sky": "clear"}'}])
    assert follow_up.choices[0].message.content  # the result goes back through the conversation
    stream = _client(server).chat.completions.create(
        model=DEFAULT_MODEL_ID, temperature=0, max_tokens=60, tools=WEATHER, tool_choice="required", stream=True,
        messages=[{"role": "user", "content": "Weather in Oslo?"}])
    chunks = list(stream)
    calls = [c.choices[0].delta.tool_calls for c in chunks if c.choices and c.choices[0].delta.tool_calls]
    assert calls and calls[0][0].function.name == "get_weather"
    assert chunks[-1].choices[0].finish_reason == "tool_calls"


@pytest.mark.engine_bound
def test_logprobs_and_seeded_sampling(server: Server) -> None:
    reply = _ask(server, "Say hello.", max_tokens=6, logprobs=True, top_logprobs=3)
    content = reply.choices[0].logprobs.content
    assert len(content) == reply.usage.completion_tokens and all(len(t.top_logprobs) == 3 for t in content)
    assert "".join(t.token for t in content) == reply.choices[0].message.content
    assert all(t.logprob <= 0 and t.top_logprobs[0].logprob >= t.logprob - 1e-6 for t in content)
    client = _client(server)

    def sample(seed: int) -> str:
        return client.chat.completions.create(model=DEFAULT_MODEL_ID, temperature=0.9, seed=seed, max_tokens=24,
                                              messages=[{"role": "user", "content": "Tell me a joke."}]
                                              ).choices[0].message.content

    assert sample(7) == sample(7)


@pytest.mark.engine_bound
def test_text_completions_through_the_openai_client(server: Server) -> None:
    reply = _client(server).completions.create(model=DEFAULT_MODEL_ID, prompt="The capital of France is",
                                               max_tokens=5, temperature=0, logprobs=2)
    assert reply.object == "text_completion" and reply.choices[0].text
    assert reply.usage.prompt_tokens > 3 and len(reply.choices[0].logprobs.tokens) == reply.usage.completion_tokens


def test_a_batch_on_the_real_model(server: Server) -> None:
    client = _client(server)
    lines = [{"custom_id": f"q{i}", "method": "POST", "url": "/v1/chat/completions",
              "body": {"model": DEFAULT_MODEL_ID, "max_tokens": 12, "temperature": 0,
                       "messages": [{"role": "user", "content": question}]}}
             for i, question in enumerate(["What is 2+2?", "Name a colour."])]
    upload = client.files.create(file=("nightly.jsonl", "\n".join(json.dumps(x) for x in lines).encode()),
                                 purpose="batch")
    batch = client.batches.create(input_file_id=upload.id, endpoint="/v1/chat/completions", completion_window="24h")
    deadline = time.monotonic() + 240
    while (batch := client.batches.retrieve(batch.id)).status not in ("completed", "failed", "cancelled"):
        assert time.monotonic() < deadline, batch
        time.sleep(0.5)
    assert batch.status == "completed" and batch.request_counts.completed == 2
    rows = [json.loads(x) for x in client.files.content(batch.output_file_id).text.splitlines()]
    direct = _ask(server, "What is 2+2?", max_tokens=12).choices[0].message.content
    answer = next(r for r in rows if r["custom_id"] == "q0")["response"]["body"]["choices"][0]["message"]["content"]
    assert answer == direct  # a batched request gets the answer the same request gets over HTTP


@pytest.mark.engine_bound
def test_concurrent_requests_are_decoded_together(server: Server) -> None:
    """Four streams to one model overlap in time: each has produced tokens before the others finish."""
    client = _client(server)
    first_token: dict[int, float] = {}
    finished: dict[int, float] = {}

    def run(index: int) -> None:
        stream = client.chat.completions.create(model=DEFAULT_MODEL_ID, temperature=0, max_tokens=48, stream=True,
                                                messages=[{"role": "user", "content": f"Write about topic {index}."}])
        for chunk in stream:
            if chunk.choices and chunk.choices[0].delta.content and index not in first_token:
                first_token[index] = time.monotonic()
        finished[index] = time.monotonic()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(180)
    assert len(finished) == 4
    assert max(first_token.values()) < min(finished.values())  # all four were decoding at the same time
