"""Prompt and report templates of app specs, rendered in Jinja's immutable sandbox.

A tenant writes its own app specs, so a template is untrusted code. Two fences: before a
spec is stored its templates are parsed and refused when they reach for anything private
(`_`-names, attribute access outside plain data, unknown filters, `{% include %}`-style
loading); when rendered, Jinja's `ImmutableSandboxedEnvironment` refuses unsafe attributes
and mutation again, and the output is capped in size.
"""

from __future__ import annotations

from typing import Any

from jinja2 import nodes
from jinja2.exceptions import SecurityError, TemplateError
from jinja2.sandbox import ImmutableSandboxedEnvironment

MAX_TEMPLATE_CHARS = 20_000
MAX_RENDERED_CHARS = 200_000
SAFE_FILTERS = frozenset({
    "abs", "capitalize", "default", "d", "first", "float", "format", "indent", "int", "join", "last", "length",
    "list", "lower", "max", "min", "replace", "reverse", "round", "sort", "string", "sum", "title", "trim",
    "truncate", "unique", "upper", "wordcount", "batch", "slice", "dictsort", "tojson", "e", "escape", "count",
    "selectattr", "rejectattr", "map", "select", "reject", "groupby", "center", "striptags",
})
_FORBIDDEN_NODES = (nodes.Import, nodes.FromImport, nodes.Include, nodes.Extends, nodes.Macro, nodes.CallBlock)
_ENV = ImmutableSandboxedEnvironment(autoescape=False, keep_trailing_newline=True)


class TemplateRefused(ValueError):
    """A template that may not be stored or rendered, with the reason."""


def check_template(source: str, where: str) -> None:
    """Refuse a template that is too long, does not parse, or reaches past plain data."""
    if len(source) > MAX_TEMPLATE_CHARS:
        raise TemplateRefused(f"{where}: template has {len(source)} characters; the limit is {MAX_TEMPLATE_CHARS}")
    try:
        tree = _ENV.parse(source)
    except TemplateError as exc:
        raise TemplateRefused(f"{where}: template does not parse: {exc}") from exc
    for node in tree.find_all(nodes.Node):
        if isinstance(node, _FORBIDDEN_NODES):
            raise TemplateRefused(f"{where}: {type(node).__name__.lower()} is not allowed in an app template")
        if isinstance(node, nodes.Getattr) and node.attr.startswith("_"):
            raise TemplateRefused(f"{where}: attribute {node.attr!r} is private and may not be read")
        if isinstance(node, nodes.Getitem) and isinstance(node.arg, nodes.Const) \
                and str(node.arg.value).startswith("_"):
            raise TemplateRefused(f"{where}: item {node.arg.value!r} is private and may not be read")
        if isinstance(node, nodes.Name) and node.name.startswith("_"):
            raise TemplateRefused(f"{where}: name {node.name!r} is private and may not be used")
        if isinstance(node, nodes.Filter) and node.name not in SAFE_FILTERS:
            raise TemplateRefused(f"{where}: filter {node.name!r} is not one of the allowed filters")
        if isinstance(node, nodes.Call) and isinstance(node.node, nodes.Getattr) \
                and node.node.attr not in ("items", "keys", "values", "get", "upper", "lower", "strip", "split",
                                           "join", "replace", "startswith", "endswith", "format"):
            raise TemplateRefused(f"{where}: calling {node.node.attr!r} is not allowed in an app template")


def render_template(source: str, values: dict[str, Any], where: str) -> str:
    """Render checked template source with plain data; sandbox violations become `TemplateRefused`."""
    check_template(source, where)
    try:
        text = _ENV.from_string(source).render(**values)
    except SecurityError as exc:
        raise TemplateRefused(f"{where}: {exc}") from exc
    except TemplateError as exc:
        raise TemplateRefused(f"{where}: template failed: {exc}") from exc
    if len(text) > MAX_RENDERED_CHARS:
        raise TemplateRefused(f"{where}: rendered text has {len(text)} characters; the limit is {MAX_RENDERED_CHARS}")
    return text
