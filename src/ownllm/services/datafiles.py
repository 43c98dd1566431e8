"""Data files: JSONL uploads with purpose `fine-tune` (training records) or `batch` (requests to run),
checked line by line before they are accepted; their content can be downloaded by their owner."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, BinaryIO

from pydantic import ValidationError
from sqlalchemy import func, select

from ownllm.errors import InvalidInput, NotFound
from ownllm.openai_schema import ChatCompletionRequest, CompletionRequest, EmbeddingRequest
from ownllm.services.ingestion import safe_filename
from ownllm.store.catalog import File
from ownllm.store.home import Home
from ownllm.store.statuses import FileStatus
from ownllm.store.tenant_settings import describe

DATA_PURPOSES = ("fine-tune", "batch")
MAX_ERRORS = 20
MAX_BATCH_REQUESTS = 50_000
BATCH_BODIES = {"/v1/chat/completions": ChatCompletionRequest, "/v1/completions": CompletionRequest,
                "/v1/embeddings": EmbeddingRequest}


def _training_line(record: Any) -> str | None:
    """Why a training record is unusable, or None: chat `messages`, `prompt`+`completion`, or `text`."""
    if not isinstance(record, dict):
        return "is not a JSON object"
    if "messages" in record:
        messages = record["messages"]
        if not isinstance(messages, list) or not messages:
            return "`messages` must be a non-empty list"
        for index, message in enumerate(messages):
            if not isinstance(message, dict) or message.get("role") not in ("system", "user", "assistant"):
                return f"messages[{index}].role must be system, user or assistant"
            if not isinstance(message.get("content"), str):
                return f"messages[{index}].content must be a string"
        if not any(m["role"] == "assistant" for m in messages):
            return "has no assistant message to learn from"
        return None
    if "prompt" in record or "completion" in record:
        ok = isinstance(record.get("prompt"), str) and isinstance(record.get("completion"), str)
        return None if ok else "`prompt` and `completion` must both be strings"
    if "text" in record:
        return None if isinstance(record["text"], str) and record["text"].strip() else "`text` must be text"
    return "needs `messages`, `prompt` and `completion`, or `text`"


def _batch_line(record: Any, seen: set[str]) -> str | None:
    if not isinstance(record, dict):
        return "is not a JSON object"
    custom_id = record.get("custom_id")
    if not isinstance(custom_id, str) or not custom_id or len(custom_id) > 128:
        return "`custom_id` must be a string of 1 to 128 characters"
    if custom_id in seen:
        return f"`custom_id` {custom_id!r} is used twice"
    seen.add(custom_id)
    if record.get("method") != "POST":
        return "`method` must be POST"
    model = BATCH_BODIES.get(record.get("url"))
    if model is None:
        return f"`url` must be one of {', '.join(BATCH_BODIES)}"
    try:
        body = model.model_validate(record.get("body"))
    except ValidationError as exc:
        return f"body: {describe(exc)}"
    if getattr(body, "stream", False):
        return "body: stream is not supported in a batch"
    return None


def validate_jsonl(data: bytes, purpose: str) -> int:
    """The number of records; otherwise `InvalidInput` naming the first bad lines and why."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InvalidInput(f"the file is not UTF-8 text (byte {exc.start})", param="file") from exc
    errors: list[str] = []
    seen: set[str] = set()
    check: Callable[[Any], str | None] = (lambda r: _batch_line(r, seen)) if purpose == "batch" else _training_line
    count = 0
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        count += 1
        try:
            problem = check(json.loads(line))
        except json.JSONDecodeError as exc:
            problem = f"is not valid JSON ({exc.msg})"
        if problem:
            errors.append(f"line {number} {problem}" if problem.startswith(("is ", "has ", "needs "))
                          else f"line {number}: {problem}")
            if len(errors) >= MAX_ERRORS:
                break
    if errors:
        raise InvalidInput("; ".join(errors), param="file", code="invalid_file")
    if count == 0:
        raise InvalidInput("the file holds no records", param="file", code="invalid_file")
    if purpose == "batch" and count > MAX_BATCH_REQUESTS:
        raise InvalidInput(f"a batch holds at most {MAX_BATCH_REQUESTS} requests", param="file")
    return count


def accept_data_file(home: Home, tenant_id: str, filename: str | None, stream: BinaryIO, purpose: str) -> File:
    """Store a JSONL (refused over the size cap before anything is kept), check every line, record it.

    A file that fails the check is not recorded, and its bytes are removed unless another file has them.
    """
    name = safe_filename(filename)
    sha, size = home.blobs.put_stream(stream, home.settings.max_upload_bytes)
    try:
        validate_jsonl(home.blobs.read_bytes(sha), purpose)
    except InvalidInput:
        with home.catalog.session() as session:
            used = session.scalar(select(func.count(File.id)).where(File.sha256 == sha)) or 0
        if not used:
            home.blobs.delete(sha)
        raise
    with home.catalog.session() as session:
        row = File(tenant_id=tenant_id, source=purpose, purpose=purpose, original_name=name, sha256=sha, size=size,
                   detected_type="jsonl", status=FileStatus.PARSED)
        session.add(row)
        session.flush()
        return row


def store_output_file(home: Home, tenant_id: str, name: str, lines: list[dict[str, Any]]) -> File:
    """A file ownllm wrote for the tenant (a batch's results or errors)."""
    data = "".join(json.dumps(line, ensure_ascii=False) + "\n" for line in lines).encode()
    sha = home.blobs.put_bytes(data)
    with home.catalog.session() as session:
        row = File(tenant_id=tenant_id, source="batch_output", purpose="batch_output", original_name=name, sha256=sha,
                   size=len(data), detected_type="jsonl", status=FileStatus.PARSED)
        session.add(row)
        session.flush()
        return row


def own_file(home: Home, tenant_id: str, file_id: str, purpose: str | None = None) -> File:
    with home.catalog.session() as session:
        file = session.get(File, file_id)
        if file is None or file.tenant_id != tenant_id or file.deleted_at is not None:
            raise NotFound(f"No such File object: {file_id}", param="file_id")
        if purpose is not None and file.purpose != purpose:
            raise InvalidInput(f"file {file_id} has purpose {file.purpose!r}, not {purpose!r}", param="file_id")
        return file


def file_content(home: Home, tenant_id: str, file_id: str) -> tuple[File, BinaryIO]:
    file = own_file(home, tenant_id, file_id)
    if not home.blobs.exists(file.sha256):
        raise NotFound(f"the content of {file_id} is no longer stored", param="file_id")
    return file, home.blobs.open(file.sha256)
