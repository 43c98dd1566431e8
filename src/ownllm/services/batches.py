"""The Batch API: an uploaded JSONL of requests, run as a job through the same functions the API
routes call, with results and errors written as output files (the way a company runs thousands of
prompts overnight). Each request is metered like an API call."""

from __future__ import annotations

import json
import uuid
from typing import Any

from ownllm.errors import InvalidInput, OwnLLMError
from ownllm.inference.pool import shared_pool
from ownllm.jobs.tracker import JobTracker
from ownllm.openai_schema import ChatCompletionRequest, CompletionRequest, EmbeddingRequest
from ownllm.services.datafiles import own_file, store_output_file
from ownllm.services.openai_calls import chat_completion, embeddings, text_completion
from ownllm.services.runtime import Runtime
from ownllm.store.catalog import UsageRecord
from ownllm.store.home import Home
from ownllm.store.statuses import JobKind

JOB = "ownllm.services.batches:batch_job"


def _records(home: Home, sha: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in home.blobs.read_bytes(sha).decode().splitlines() if line.strip()]


def create_batch(runtime: Runtime, tenant_id: str, input_file_id: str, endpoint: str,
                 metadata: dict[str, str] | None) -> str:
    home = runtime.home
    file = own_file(home, tenant_id, input_file_id, "batch")
    for number, record in enumerate(_records(home, file.sha256), 1):
        if record.get("url") != endpoint:
            raise InvalidInput(f"line {number} asks for {record.get('url')}, but the batch endpoint is {endpoint}",
                               param="input_file_id")
    return runtime.require_runner().submit(
        JobKind.BATCH, tenant_id, JOB, {"input_file_id": input_file_id, "endpoint": endpoint},
        job_params={"input_file_id": input_file_id, "endpoint": endpoint, "metadata": metadata or {},
                    "completion_window": "24h"})


def _run_one(runtime: Runtime, tenant_id: str, record: dict[str, Any]) -> tuple[dict[str, Any], UsageRecord]:
    url, body = record["url"], record["body"]
    model, prompt, completion = body.get("model"), 0, 0
    if url == "/v1/chat/completions":
        response, reply = chat_completion(runtime, tenant_id, ChatCompletionRequest.model_validate(body))
        payload, prompt, completion = response.model_dump(mode="json"), reply.prompt_tokens, reply.completion_tokens
    elif url == "/v1/completions":
        payload, result = text_completion(runtime, tenant_id, CompletionRequest.model_validate(body))
        prompt, completion = result.prompt_tokens, result.completion_tokens
    else:
        listing = embeddings(runtime.home.settings, EmbeddingRequest.model_validate(body))
        payload, prompt = listing.model_dump(mode="json"), listing.usage.prompt_tokens
    usage = UsageRecord(tenant_id=tenant_id, key_id=None, model=model, endpoint="/v1/batches", status=200,
                        prompt_tokens=prompt, completion_tokens=completion)
    return payload, usage


def batch_job(home: Home, tenant_id: str, tracker: JobTracker, *, input_file_id: str, endpoint: str) -> None:
    settings = home.settings
    runtime = Runtime(home, shared_pool(settings.engine_memory_mb, settings.engine_queue))
    file = own_file(home, tenant_id, input_file_id, "batch")
    records = _records(home, file.sha256)
    tracker.start(total=len(records))
    outputs: list[dict[str, Any]] = []
    errors: list[dict[str, Any]] = []
    usage: list[UsageRecord] = []
    for done, record in enumerate(records):
        if done % 10 == 0:
            tracker.check_cancelled()
        tracker.progress(done, len(records), "requests", record["custom_id"])
        line_id = f"batch_req_{uuid.uuid4().hex[:24]}"
        try:
            payload, used = _run_one(runtime, tenant_id, record)
        except OwnLLMError as exc:
            errors.append({"id": line_id, "custom_id": record["custom_id"], "response": None,
                           "error": {"code": exc.code or exc.type, "message": exc.message}})
            continue
        usage.append(used)
        outputs.append({"id": line_id, "custom_id": record["custom_id"], "error": None,
                        "response": {"status_code": 200, "request_id": line_id, "body": payload}})
    tracker.progress(len(records), len(records), "finalizing", None)
    output = store_output_file(home, tenant_id, f"{input_file_id}_output.jsonl", outputs) if outputs else None
    error_file = store_output_file(home, tenant_id, f"{input_file_id}_errors.jsonl", errors) if errors else None
    with home.catalog.session() as session:
        session.add_all(usage)
    tracker.succeed({"output_file_id": output.id if output else None,
                     "error_file_id": error_file.id if error_file else None,
                     "request_counts": {"total": len(records), "completed": len(outputs), "failed": len(errors)}})
