"""Running an app: validate inputs, prepare them, ground them, generate JSON under the output
schema's grammar, derive what code computes better than a model, check, retry, render.

Generation goes through `ownllm.chat.answer`, the same path as chat, so model resolution,
context checks and the engine pool are shared, and a run's tokens are counted the same way.
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass, field
from typing import Any

from markdown_it import MarkdownIt

from ownllm.apps.checks import CheckResult, run_checks
from ownllm.apps.derive import DERIVE
from ownllm.apps.inputs import (
    AppFile,
    Prepared,
    add_sources,
    lang_of,
    prepare_chat_digest,
    prepare_sketch,
    prepare_speech_request,
    prepare_transcript,
)
from ownllm.apps.spec import AppSpec, AppSpecError, with_ids
from ownllm.apps.templates import TemplateRefused, render_template
from ownllm.chat.answer import AnswerRequest, prepare_answer
from ownllm.chat.structured import schema_validator
from ownllm.errors import InvalidInput, OwnLLMError
from ownllm.inference.pool import EnginePool
from ownllm.ingest.parsers.options import ParseOptions
from ownllm.store.home import Home
from ownllm.store.tenants import tenant_settings

RETRY_TEMPERATURE = 0.7
MAX_FILE_BYTES = {"chat_export": 20 * 2**20, "image": 30 * 2**20}  # audio is capped by its duration


@dataclass
class AppResult:
    app: str
    version: int
    model: str
    status: str  # succeeded | checks_failed
    output: dict[str, Any]
    checks: list[CheckResult]
    citations: dict[str, dict[str, Any]]
    markdown: str
    html: str
    lang: str
    attempts: int
    prompt_tokens: int
    completion_tokens: int
    latency_ms: float
    first_token_ms: float | None
    speech_to_first_token_ms: float | None
    input_hashes: dict[str, str]
    notes: list[str] = field(default_factory=list)
    variant: str | None = None  # which output variant ran (a voice request's kind, told or heard)

    def as_dict(self) -> dict[str, Any]:
        return {"app": self.app, "version": self.version, "model": self.model, "status": self.status,
                "output": self.output, "checks": [c.as_dict() for c in self.checks], "citations": self.citations,
                "markdown": self.markdown, "lang": self.lang, "attempts": self.attempts,
                "usage": {"prompt_tokens": self.prompt_tokens, "completion_tokens": self.completion_tokens,
                          "total_tokens": self.prompt_tokens + self.completion_tokens},
                "latency_ms": self.latency_ms, "first_token_ms": self.first_token_ms,
                "speech_to_first_token_ms": self.speech_to_first_token_ms, "input_hashes": self.input_hashes,
                "notes": self.notes, "variant": self.variant}


def input_hashes(inputs: dict[str, Any], files: dict[str, AppFile]) -> dict[str, str]:
    hashes = {"inputs": hashlib.sha256(json.dumps(inputs, sort_keys=True, ensure_ascii=False, default=str)
                                       .encode()).hexdigest()}
    for slot, item in files.items():
        hashes[slot] = hashlib.sha256(item.data).hexdigest()
    return hashes


def check_inputs(spec: AppSpec, inputs: dict[str, Any], files: dict[str, AppFile]) -> None:
    """Inputs against the spec's schema and file slots; the error names the field."""
    errors = sorted(schema_validator(spec.inputs).iter_errors(inputs), key=lambda e: list(e.path))
    if errors:
        error = errors[0]
        where = ".".join(str(p) for p in error.path) or (error.validator == "required" and
                                                        str(error.message).split("'")[1]) or "inputs"
        raise InvalidInput(f"inputs.{where}: {error.message}", param=f"inputs.{where}")
    for name in files:
        if name not in spec.files:
            raise InvalidInput(f"app {spec.name!r} takes no file {name!r}; its files are "
                               f"{', '.join(spec.files) or 'none'}", param=name)
    for name, slot in spec.files.items():
        if slot.required and name not in files:
            raise InvalidInput(f"app {spec.name!r} needs the file {name!r} ({slot.kind})", param=name)
        cap = MAX_FILE_BYTES.get(slot.kind)
        if name in files and cap is not None and len(files[name].data) > cap:
            raise InvalidInput(f"{files[name].name}: {len(files[name].data)} bytes; a {slot.kind} file for an app "
                               f"may have {cap}", param=name, code="file_too_large")


def prepare(home: Home, tenant_id: str, spec: AppSpec, inputs: dict[str, Any], files: dict[str, AppFile],
            knowledge: bool) -> Prepared:
    tenant = tenant_settings(home, tenant_id)  # the tenant's media limits, speech language and Chinese script
    options = ParseOptions(tenant.limits, home.settings.model_cache, tenant.speech_language, tenant.chinese_script,
                           tenant.transcribe_unclear_audio)
    if spec.prepare == "transcript":
        prepared = prepare_transcript(inputs, files, options)
    elif spec.prepare == "chat_digest":
        prepared = prepare_chat_digest(inputs, files)
    elif spec.prepare == "sketch":
        prepared = prepare_sketch(inputs, files)
    elif spec.prepare == "speech_request":
        prepared = prepare_speech_request(inputs, files, options)
    else:
        prepared = Prepared(input_text=" ".join(str(v) for v in inputs.values() if isinstance(v, str)))
        prepared.lang = lang_of(prepared.input_text, inputs.get("language"))
    if spec.retrieval is not None:
        if knowledge:
            query = render_template(spec.retrieval.query, {**inputs, **prepared.values, "lang": prepared.lang},
                                    "retrieval.query").strip()
            add_sources(prepared, home, tenant_id, spec, query or prepared.input_text[:500])
        else:
            prepared.ids.update(sources=[], offers=[])
            prepared.values.update(sources=[], offers=[])
    return prepared


def _citations(output: dict[str, Any], prepared: Prepared) -> dict[str, dict[str, Any]]:
    used: dict[str, dict[str, Any]] = {}
    text = json.dumps(output, ensure_ascii=False)
    for source_id, source in prepared.sources.items():
        if f'"{source_id}"' in text:
            used[source_id] = source["citation"]
    return used


def _derive_and_check(spec: AppSpec, output: dict[str, Any], prepared: Prepared,
                      inputs: dict[str, Any]) -> list[CheckResult]:
    """Derivations, then checks; an output they cannot handle is a failed check, not a lost run."""
    for step in spec.derive:
        try:
            DERIVE[step](output, prepared, inputs)
        except (ArithmeticError, LookupError, TypeError, ValueError, OwnLLMError) as exc:
            return [CheckResult(f"derive {step}", False, f"{type(exc).__name__}: {exc}")]
    try:
        return run_checks(output, spec.checks, prepared, inputs)
    except (ArithmeticError, LookupError, TypeError, ValueError) as exc:
        return [CheckResult("checks", False, f"{type(exc).__name__}: {exc}")]


def render_output(spec: AppSpec, output: dict[str, Any], inputs: dict[str, Any], lang: str) -> tuple[str, str]:
    """Markdown from the spec's report template (sandboxed) and the same as safe HTML for mail."""
    source = spec.text("render", lang)
    markdown = render_template(source, {**inputs, "output": output, "lang": lang}, "render") if source else \
        "```json\n" + json.dumps(output, ensure_ascii=False, indent=2) + "\n```"
    html = MarkdownIt("commonmark", {"html": False}).enable("table").render(markdown)
    return markdown, html


def run_app(home: Home, pool: EnginePool, tenant_id: str, spec: AppSpec, model: str, inputs: dict[str, Any],
            files: dict[str, AppFile] | None = None, *, knowledge: bool = True) -> AppResult:
    started = time.monotonic()
    files = files or {}
    inputs = dict(inputs)
    check_inputs(spec, inputs, files)
    hashes = input_hashes(inputs, files)
    prepared = prepare(home, tenant_id, spec, inputs, files, knowledge)
    values = {**inputs, **prepared.values, "lang": prepared.lang}
    try:
        messages = [{"role": "user", "content": render_template(spec.text("prompt", prepared.lang), values, "prompt")}]
        system = spec.text("system", prepared.lang)
        if system:
            messages.insert(0, {"role": "system", "content": render_template(system, values, "system")})
        schema = with_ids(spec.output_schema(inputs), prepared.ids)
    except (TemplateRefused, AppSpecError) as exc:
        raise InvalidInput(f"app {spec.name!r}: {exc}", param="app") from exc
    response_format = {"type": "json_schema", "json_schema": {"name": spec.name, "schema": schema}}
    prompt_tokens = completion_tokens = 0
    first_token_at: float | None = None
    best: tuple[int, dict[str, Any], list[CheckResult]] = (-1, {}, [])  # the attempt that passed most checks
    attempts = 0
    for attempt in range(spec.retries + 1):
        attempts = attempt + 1
        request = AnswerRequest(model=model, messages=messages, max_tokens=spec.max_tokens,
                                temperature=spec.temperature if attempt == 0 else RETRY_TEMPERATURE,
                                seed=attempt, response_format=response_format)
        prepared_answer = prepare_answer(home, pool, tenant_id, request)  # a context overflow is the caller's error
        try:
            answer = prepared_answer.complete()
        except OwnLLMError as exc:  # the text did not parse or validate: retried, then reported
            candidate: tuple[int, dict[str, Any], list[CheckResult]] = (0, {}, [CheckResult("schema", False,
                                                                                           str(exc))])
        else:
            prompt_tokens += answer.prompt_tokens
            completion_tokens += answer.completion_tokens
            if first_token_at is None and answer.first_token_at is not None:
                first_token_at = answer.first_token_at
            if answer.finish_reason != "stop":
                cut = f"the output was cut at {spec.max_tokens} tokens before the JSON was complete"
                candidate = (0, {}, [CheckResult("schema", False, cut)])
            else:
                output = json.loads(answer.text)
                results = [CheckResult("schema", True, "valid against the output schema"),
                           *_derive_and_check(spec, output, prepared, inputs)]
                candidate = (sum(r.passed for r in results), output, results)
        if candidate[0] > best[0]:
            best = candidate
        if candidate[1] and all(r.passed for r in candidate[2]):
            break
    _, output, results = best
    failure = "; ".join(f"{r.check}: {r.detail}" for r in results if not r.passed)
    passed = bool(results) and all(r.passed for r in results)
    notes = list(prepared.notes)
    try:
        markdown, html = render_output(spec, output, inputs, prepared.lang) if output else ("", "")
    except TemplateRefused as exc:  # generation was spent: the run is still recorded, with the reason
        markdown, html = "", ""
        notes.append(f"the report could not be rendered: {exc}")
    if not passed:
        notes.append(f"checks failed after {attempts} attempt(s): {failure}")
    speech_ms = (first_token_at - prepared.speech_ended_at) * 1000 \
        if first_token_at is not None and prepared.speech_ended_at is not None else None
    return AppResult(
        app=spec.name, version=spec.version, model=model, status="succeeded" if passed else "checks_failed",
        output=output, checks=results, citations=_citations(output, prepared), markdown=markdown, html=html,
        lang=prepared.lang, attempts=attempts, prompt_tokens=prompt_tokens, completion_tokens=completion_tokens,
        latency_ms=round((time.monotonic() - started) * 1000, 1),
        first_token_ms=round((first_token_at - started) * 1000, 1) if first_token_at else None,
        speech_to_first_token_ms=round(speech_ms, 1) if speech_ms is not None else None,
        input_hashes=hashes, notes=notes,
        variant=str(inputs.get(spec.variant_input)) if spec.variant_input else None)
