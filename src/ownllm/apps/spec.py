"""App specs: an app is data (inputs, prompts, output schema, checks), not a code path per app.

A spec is YAML or JSON. The six built-in apps ship as specs in `apps/builtin/`; a tenant
adds its own through the API or CLI and they are validated strictly: unknown keys,
schemas that cannot constrain generation, unknown input preparations/derivations/checks
and templates that reach past plain data are refused with the field and the reason.

Output schemas may mark a string with `"x-ids": "<list>"`: at run time it becomes an
enum of the ids the prepared input offers (transcript segments, chat messages, retrieved
sources, catalogue offers), so the grammar itself guarantees that every citation points
at something real.
"""

from __future__ import annotations

import copy
import json
import re
from functools import lru_cache
from importlib import resources
from typing import Any, Literal

import jsonschema
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from ownllm.apps.templates import TemplateRefused, check_template
from ownllm.chat.structured import check_schema_limits, response_format_constraint
from ownllm.errors import InvalidInput

MAX_SPEC_BYTES = 64_000
DEFAULT_MAX_STRING = 300  # characters, for output strings a spec leaves unbounded
ID_LISTS = ("segments", "messages", "conversations", "sources", "offers")
PREPARATIONS = ("transcript", "chat_digest", "sketch", "speech_request")
DERIVATIONS = ("segment_times", "dues_as_said", "message_ids", "budget_amounts", "offer_prices", "sketch_app", "owners",
               "attribute_claims")
CHECKS = ("max_length", "language", "sums_to_budget", "totals_add_up", "owners_known", "citations_grounded",
          "labels_covered", "child_safe", "items_grounded", "not_empty", "stated")
FILE_KINDS = ("audio", "image", "chat_export")
RESERVED_NAMES = ("runs",)  # `/v1/apps/runs` lists runs
Localized = str | dict[Literal["en", "zh"], str]


class AppSpecError(ValueError):
    """A spec that cannot be stored or run; the message names the field."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class FileSlot(_Strict):
    kind: Literal["audio", "image", "chat_export"]
    required: bool = False
    description: str = ""


class RetrievalSpec(_Strict):
    query: str = Field(max_length=2000)  # a template over the inputs
    top_k: int = Field(4, ge=1, le=8)
    offers: bool = False  # also list priced catalogue lines found in the passages


class CheckSpec(_Strict):
    check: str
    path: str = ""  # a dotted path into the output, `[]` for every element of a list
    limit: float | None = None

    @field_validator("check")
    @classmethod
    def _known(cls, value: str) -> str:
        if value not in CHECKS:
            raise ValueError(f"unknown check {value!r}; checks are {', '.join(CHECKS)}")
        return value


class AppSpec(_Strict):
    name: str = Field(pattern=r"^[a-z][a-z0-9_]{1,47}$")
    version: int = Field(1, ge=1)
    title: Localized
    description: Localized = ""
    inputs: dict[str, Any] = Field(default_factory=lambda: {"type": "object", "properties": {}})
    files: dict[str, FileSlot] = Field(default_factory=dict)
    prepare: str | None = None
    retrieval: RetrievalSpec | None = None
    system: Localized = ""
    prompt: Localized
    output: dict[str, Any] | None = None
    output_variants: dict[str, dict[str, Any]] | None = None  # chosen by the input named in `variant_input`
    variant_input: str | None = None
    derive: list[str] = Field(default_factory=list)
    checks: list[CheckSpec] = Field(default_factory=list)
    render: Localized = ""
    max_tokens: int = Field(512, ge=16, le=2048)
    temperature: float = Field(0.2, ge=0.0, le=1.5)
    retries: int = Field(1, ge=0, le=2)
    builtin: bool = False

    @field_validator("prepare")
    @classmethod
    def _known_preparation(cls, value: str | None) -> str | None:
        if value is not None and value not in PREPARATIONS:
            raise ValueError(f"unknown preparation {value!r}; preparations are {', '.join(PREPARATIONS)}")
        return value

    @field_validator("derive")
    @classmethod
    def _known_derivations(cls, values: list[str]) -> list[str]:
        for value in values:
            if value not in DERIVATIONS:
                raise ValueError(f"unknown derivation {value!r}; derivations are {', '.join(DERIVATIONS)}")
        return values

    @field_validator("files")
    @classmethod
    def _file_names(cls, value: dict[str, FileSlot]) -> dict[str, FileSlot]:
        for name in value:
            if not re.fullmatch(r"[a-z][a-z0-9_]{0,31}", name):
                raise ValueError(f"file slot name {name!r} must be lower-case letters, digits and _")
        return value

    @model_validator(mode="after")
    def _one_output(self) -> AppSpec:
        if (self.output is None) == (self.output_variants is None):
            raise ValueError("give exactly one of output and output_variants")
        if self.output_variants is not None and (
                not self.variant_input or self.variant_input not in self.inputs.get("properties", {})):
            raise ValueError("output_variants needs variant_input naming one of the inputs")
        return self

    def text(self, field: str, lang: str) -> str:
        value = getattr(self, field)
        if isinstance(value, dict):
            return value.get(lang) or value.get("en") or next(iter(value.values()), "")
        return value

    def output_schema(self, inputs: dict[str, Any]) -> dict[str, Any]:
        if self.output is not None:
            return self.output
        assert self.output_variants is not None and self.variant_input is not None
        variant = inputs.get(self.variant_input)
        if variant not in self.output_variants:
            raise AppSpecError(f"inputs.{self.variant_input}: must be one of {', '.join(self.output_variants)}")
        return self.output_variants[variant]

    def summary(self) -> dict[str, Any]:
        return {"name": self.name, "version": self.version, "title": self.title, "description": self.description,
                "inputs": self.inputs, "files": {k: v.model_dump() for k, v in self.files.items()},
                "builtin": self.builtin, "retrieval": self.retrieval is not None}


def _refuse_patterns(node: Any, where: str) -> None:
    """Tenant regexes would run in Python's backtracking engine on every input (and become grammars)."""
    if isinstance(node, dict):
        for key in ("pattern", "patternProperties"):
            if key in node:
                raise AppSpecError(f"{where}: {key} is not allowed in app schemas")
        for value in node.values():
            _refuse_patterns(value, where)
    elif isinstance(node, list):
        for value in node:
            _refuse_patterns(value, where)


def _check_limits(schema: dict[str, Any], where: str, *, bounds: bool = True) -> None:
    _refuse_patterns(schema, where)
    try:
        check_schema_limits(schema, where, bounds=bounds)
    except InvalidInput as exc:
        raise AppSpecError(str(exc)) from exc


def _check_schema(schema: dict[str, Any], where: str) -> None:
    if schema.get("type") != "object":
        raise AppSpecError(f"{where}: must be a JSON schema of type object")
    _check_limits(schema, where)
    _check_id_marks(schema, where)
    concrete = with_ids(schema, {name: ["ID1"] for name in ID_LISTS})
    try:
        jsonschema.Draft202012Validator.check_schema(concrete)
        response_format_constraint({"type": "json_schema", "json_schema": {"schema": concrete}})
    except Exception as exc:
        raise AppSpecError(f"{where}: {exc}") from exc


def _check_id_marks(node: Any, where: str, in_properties: bool = False) -> None:
    if isinstance(node, dict):
        if not in_properties and "x-ids" in node:
            mark = node["x-ids"]
            if not isinstance(mark, str) or mark not in ID_LISTS:
                raise AppSpecError(f"{where}: x-ids must be one of {', '.join(ID_LISTS)}")
            if node.get("type") != "string":
                raise AppSpecError(f"{where}: x-ids marks a string; this node's type is {node.get('type')!r}")
        for key, value in node.items():
            _check_id_marks(value, where, in_properties=key == "properties" and not in_properties)
    elif isinstance(node, list):
        for value in node:
            _check_id_marks(value, where)


def with_ids(schema: dict[str, Any], ids: dict[str, list[str]]) -> dict[str, Any]:
    """The schema with every `x-ids` string turned into an enum of the ids the prepared input offers, and
    every other free string bounded (a small model can loop inside a string until the token budget ends)."""

    def walk(node: Any, in_properties: bool = False) -> Any:
        if isinstance(node, dict):
            if in_properties:  # property names, not schema keywords
                return {k: walk(v) for k, v in node.items()}
            out = {k: walk(v, k == "properties") for k, v in node.items() if k != "x-ids"}
            mark = node.get("x-ids")
            if isinstance(mark, str):
                out.pop("maxLength", None)
                out["enum"] = list(ids.get(mark) or ["none"])
            elif out.get("type") == "string" and "enum" not in out and "maxLength" not in out:
                out["maxLength"] = DEFAULT_MAX_STRING
            return out
        if isinstance(node, list):
            return [walk(v) for v in node]
        return node

    return walk(copy.deepcopy(schema))


def _templates(spec: AppSpec) -> list[tuple[str, str]]:
    out = []
    for field in ("system", "prompt", "render"):
        value = getattr(spec, field)
        for lang, text in (value.items() if isinstance(value, dict) else [("", value)]):
            out.append((f"{field}.{lang}" if lang else field, text))
    if spec.retrieval is not None:
        out.append(("retrieval.query", spec.retrieval.query))
    return out


def parse_spec(source: str | bytes | dict[str, Any], where: str = "spec") -> AppSpec:
    """Validate a spec completely (fields, schemas, templates) before anything is stored or run."""
    if isinstance(source, bytes | str):
        if len(source) > MAX_SPEC_BYTES:
            raise AppSpecError(f"{where}: spec is {len(source)} bytes; the limit is {MAX_SPEC_BYTES}")
        try:
            data = yaml.safe_load(source)
        except yaml.YAMLError as exc:
            raise AppSpecError(f"{where}: not valid YAML or JSON: {exc}") from exc
    else:
        data = source
    if not isinstance(data, dict):
        raise AppSpecError(f"{where}: a spec is a mapping of fields (name, title, prompt, output, ...)")
    try:
        spec = AppSpec.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(p) for p in first["loc"]) or "spec"
        raise AppSpecError(f"{where}: {field}: {first['msg']}") from exc
    if spec.inputs.get("type") != "object":
        raise AppSpecError(f"{where}: inputs must be a JSON schema of type object")
    if spec.name in RESERVED_NAMES:
        raise AppSpecError(f"{where}: name {spec.name!r} is reserved")
    _check_limits(spec.inputs, f"{where}: inputs", bounds=False)  # inputs are validated, never generated
    try:
        jsonschema.Draft202012Validator.check_schema(spec.inputs)
    except jsonschema.SchemaError as exc:
        raise AppSpecError(f"{where}: inputs: {exc.message}") from exc
    schemas = {"output": spec.output} if spec.output is not None else \
        {f"output_variants.{k}": v for k, v in (spec.output_variants or {}).items()}
    for name, schema in schemas.items():
        _check_schema(schema, f"{where}: {name}")
    for name, text in _templates(spec):
        try:
            check_template(text, name)
        except TemplateRefused as exc:
            raise AppSpecError(f"{where}: {exc}") from exc
    return spec


def builtin_specs() -> dict[str, AppSpec]:
    """The apps every tenant has, read from the package's YAML files (once per process)."""
    return {name: spec.model_copy(deep=True) for name, spec in _builtin_specs().items()}


@lru_cache(maxsize=1)
def _builtin_specs() -> dict[str, AppSpec]:
    specs = {}
    for item in sorted(resources.files("ownllm.apps").joinpath("builtin").iterdir(), key=lambda p: p.name):
        if item.name.endswith(".yaml"):
            spec = parse_spec(item.read_text(encoding="utf-8"), f"builtin/{item.name}")
            spec.builtin = True
            specs[spec.name] = spec
    return specs


def spec_json(spec: AppSpec) -> str:
    return json.dumps(spec.model_dump(exclude={"builtin"}), ensure_ascii=False, sort_keys=True)
