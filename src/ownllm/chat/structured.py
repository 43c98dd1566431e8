"""Structured output: `response_format` (any JSON object, or JSON that follows a schema) and tool calls,
both enforced by a llama.cpp grammar so that even a small model's output parses and validates.

A tool call is a JSON object `{"name": ..., "arguments": {...}}` whose arguments follow the tool's
parameter schema. When the model's chat template formats tools itself (Qwen's does, with
`<tool_call>` tags) the tools go to the template and the grammar expects its tags; otherwise a
system turn lists them. `tool_choice` "required" or a named function forces a call; "auto" lets
the model either call a tool or answer in text; "none" ignores the tools.
"""

from __future__ import annotations

import json
import re
import uuid
from dataclasses import dataclass
from typing import Any

import jsonschema
from llama_cpp.llama_grammar import json_schema_to_gbnf
from referencing import Registry

from ownllm.errors import InvalidInput

# Any JSON object, with whitespace bounded (an unbounded `ws` lets a small model loop on spaces).
JSON_OBJECT_GBNF = r"""
root   ::= object
value  ::= object | array | string | number | ("true" | "false" | "null")
object ::= "{" ws ( string ":" ws value ( "," ws string ":" ws value )* )? ws "}"
array  ::= "[" ws ( value ( "," ws value )* )? ws "]"
string ::= "\"" ( [^"\\\x7F\x00-\x1F] | "\\" ( ["\\/bfnrt] | "u" [0-9a-fA-F]{4} ) )* "\""
number ::= ("-"? ([0-9] | [1-9] [0-9]{0,15})) ("." [0-9]{1,16})? ([eE] [-+]? [0-9]{1,3})?
ws     ::= [ \t\n]{0,2}
"""
# free text for tool_choice "auto": anything that does not open a call
TEXT_GBNF = r"""text ::= [^{<\x00] [^\x00]*"""


@dataclass(frozen=True)
class Tool:
    name: str
    description: str
    parameters: dict[str, Any]


@dataclass
class OutputConstraint:
    grammar: str
    schema: dict[str, Any] | None = None  # what the JSON must validate against (json_schema)
    tools: list[Tool] | None = None  # tool calls are expected (or allowed, with tool_choice auto)
    tagged: bool = False  # calls are wrapped in the template's <tool_call> tags


_NESTED_STRING = re.compile(
    r'^(?P<name>[\w-]+) ::= "\\"" (?P<required>(?:char )*)(?P<body>\(char[ ()?char]*\)\?) "\\"" space$', re.MULTILINE)
MAX_SCHEMA_BOUND = 2000  # maxLength/minLength/maxItems/minItems: llama.cpp refuses longer repetitions
MAX_GRAMMAR_CHARS = 200_000
_BOUNDS = ("maxLength", "minLength", "maxItems", "minItems")
# validate without ever fetching a `$ref` (jsonschema would read file:// and http:// references)
_NO_RETRIEVAL = Registry()


def _compact_strings(grammar: str) -> str:
    """`minLength: m, maxLength: n` comes out of the converter as m chars then n - m nested optionals;
    GBNF's `char{m,n}` says the same in one rule."""

    def compact(match: re.Match[str]) -> str:
        body = match.group("body")
        optional = body.count("(char")
        if optional != body.count(")?") or body.replace("(char", "").replace(")?", "").strip():
            return match.group(0)
        required = match.group("required").count("char")
        return f'{match.group("name")} ::= "\\"" char{{{required},{required + optional}}} "\\"" space'

    grammar = _NESTED_STRING.sub(compact, grammar)
    # strict JSON has no raw control characters inside strings (json.loads refuses them): keep them out
    return grammar.replace('char ::= [^"\\\\] |', 'char ::= [^"\\\\\\x7F\\x00-\\x1F] |')


def check_schema_limits(node: Any, param: str, *, bounds: bool = True) -> None:
    """Refuse what would make a grammar huge or fetch something: bounds over the cap (a schema that only
    validates, `bounds=False`, may have larger ones), non-local `$ref`s."""
    if isinstance(node, dict):
        for key in _BOUNDS if bounds else ():
            value = node.get(key)
            if isinstance(value, int) and not isinstance(value, bool) and value > MAX_SCHEMA_BOUND:
                raise InvalidInput(f"{param}: {key} {value} is above the limit of {MAX_SCHEMA_BOUND}", param=param)
        ref = node.get("$ref")
        if isinstance(ref, str) and not ref.startswith("#"):
            raise InvalidInput(f"{param}: $ref {ref[:80]!r} points outside the schema; only local references "
                               "(#/...) are allowed", param=param)
        for value in node.values():
            check_schema_limits(value, param, bounds=bounds)
    elif isinstance(node, list):
        for value in node:
            check_schema_limits(value, param, bounds=bounds)


def schema_validator(schema: dict[str, Any]) -> jsonschema.protocols.Validator:
    """A validator that resolves only references inside the schema itself."""
    return jsonschema.Draft202012Validator(schema, registry=_NO_RETRIEVAL)


def schema_grammar(schema: dict[str, Any], param: str = "schema") -> str:
    """The GBNF grammar that makes a model's output a JSON value of `schema` (bounded, checked)."""
    check_schema_limits(schema, param)
    try:
        jsonschema.Draft202012Validator.check_schema(schema)
        grammar = _compact_strings(json_schema_to_gbnf(json.dumps(schema)))
    except (jsonschema.SchemaError, ValueError, KeyError, TypeError, NotImplementedError, RecursionError) as exc:
        raise InvalidInput(f"{param}: the schema cannot be used to constrain output ({exc})", param=param) from exc
    if len(grammar) > MAX_GRAMMAR_CHARS:
        raise InvalidInput(f"{param}: the schema makes a grammar of {len(grammar)} characters; the limit is "
                           f"{MAX_GRAMMAR_CHARS}", param=param)
    return grammar


def response_format_constraint(response_format: dict[str, Any] | None) -> OutputConstraint | None:
    if not response_format or response_format.get("type") in (None, "text"):
        return None
    kind = response_format.get("type")
    if kind == "json_object":
        return OutputConstraint(JSON_OBJECT_GBNF)
    if kind == "json_schema":
        spec = response_format.get("json_schema") or {}
        schema = spec.get("schema")
        if not isinstance(schema, dict):
            raise InvalidInput("response_format.json_schema.schema must be a JSON schema object",
                               param="response_format.json_schema.schema")
        return OutputConstraint(schema_grammar(schema, "response_format.json_schema.schema"), schema)
    raise InvalidInput(f"response_format type {kind!r} is not supported; use text, json_object or json_schema",
                       param="response_format.type")


def parse_tools(tools: list[dict[str, Any]] | None) -> list[Tool]:
    parsed = []
    for index, item in enumerate(tools or []):
        function = item.get("function") if isinstance(item, dict) and item.get("type") == "function" else None
        if not isinstance(function, dict) or not isinstance(function.get("name"), str):
            raise InvalidInput(f"tools[{index}] must be {{'type': 'function', 'function': {{'name': ...}}}}",
                               param=f"tools[{index}]")
        parameters = function.get("parameters") or {"type": "object", "properties": {}}
        parsed.append(Tool(function["name"], str(function.get("description") or ""), parameters))
    return parsed


def tool_constraint(tools: list[Tool], tool_choice: Any, tagged: bool) -> OutputConstraint | None:
    """The grammar for tool calls, or None when `tool_choice` is "none" (or there are no tools)."""
    if not tools or tool_choice == "none":
        return None
    chosen = tools
    forced = tool_choice == "required"
    if isinstance(tool_choice, dict):
        name = (tool_choice.get("function") or {}).get("name")
        chosen = [t for t in tools if t.name == name]
        if not chosen:
            raise InvalidInput(f"tool_choice names {name!r}, which is not in tools", param="tool_choice")
        forced = True
    elif tool_choice not in (None, "auto", "required"):
        raise InvalidInput("tool_choice must be none, auto, required or a named function", param="tool_choice")
    call_schema = {"anyOf": [{"type": "object", "properties": {"name": {"const": t.name}, "arguments": t.parameters},
                              "required": ["name", "arguments"]} for t in chosen]}
    call = schema_grammar(call_schema, "tools").replace("root ::=", "call ::=")
    wrapped = '"<tool_call>\\n" call "\\n</tool_call>"' if tagged else "call"
    root = f"root ::= {wrapped}" if forced else f"root ::= {wrapped} | text\n{TEXT_GBNF}"
    return OutputConstraint(f"{root}\n{call}", tools=chosen, tagged=tagged)


def tools_system_turn(tools: list[Tool]) -> dict[str, str]:
    """For templates that do not format tools themselves: the tools, and how to call one."""
    listing = json.dumps([{"name": t.name, "description": t.description, "parameters": t.parameters}
                          for t in tools], ensure_ascii=False)
    return {"role": "system", "content": "You can call these tools. To call one, reply with only a JSON object "
                                         f'{{"name": <tool name>, "arguments": {{...}}}}.\nTools: {listing}'}


def tool_messages(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Assistant tool calls and tool results as plain turns, for templates without tool support."""
    out = []
    for message in messages:
        calls = message.get("tool_calls")
        if message.get("role") == "assistant" and calls:
            text = "\n".join(json.dumps({"name": c["function"]["name"],
                                         "arguments": json.loads(c["function"].get("arguments") or "{}")})
                             for c in calls)
            out.append({"role": "assistant", "content": text})
        elif message.get("role") == "tool":
            out.append({"role": "user", "content": f"Tool result: {message.get('content') or ''}"})
        else:
            out.append({"role": message["role"], "content": message.get("content") or ""})
    return out


@dataclass
class ToolCall:
    id: str
    name: str
    arguments: str  # JSON text, as OpenAI returns it

    def as_dict(self) -> dict[str, Any]:
        return {"id": self.id, "type": "function", "function": {"name": self.name, "arguments": self.arguments}}


def parse_tool_call(text: str, constraint: OutputConstraint) -> ToolCall | None:
    """The call in the model's output, or None when it answered in text (tool_choice auto)."""
    body = text.strip()
    if constraint.tagged:
        if not body.startswith("<tool_call>"):
            return None
        body = body.removeprefix("<tool_call>").removesuffix("</tool_call>").strip()
    if not body.startswith("{"):
        return None
    try:
        data = json.loads(body)
    except json.JSONDecodeError:
        return None
    return ToolCall(f"call_{uuid.uuid4().hex[:24]}", data["name"], json.dumps(data["arguments"], ensure_ascii=False))


def check_json(text: str, constraint: OutputConstraint) -> None:
    """The grammar should make this impossible to fail; a truncated output (max_tokens) still can."""
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InvalidInput(f"the output was cut before the JSON was complete (raise max_tokens): {exc.msg}",
                           param="max_tokens", code="output_truncated") from exc
    if constraint.schema is not None:
        error = jsonschema.exceptions.best_match(schema_validator(constraint.schema).iter_errors(value))
        if error is not None:
            raise error
