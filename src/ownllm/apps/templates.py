"""Prompt and report templates of app specs, rendered in Jinja's immutable sandbox.

A tenant writes its own app specs, so a template is untrusted code. Two fences: before a
spec is stored its templates are parsed and refused when they reach for anything private
(`_`-names, attribute access outside plain data, unknown filters, `{% include %}`-style
loading) or could run away (powers, huge constants, loops nested deeper than two, recursive
loops); when rendered, Jinja's `ImmutableSandboxedEnvironment` refuses unsafe attributes and
mutation again, `*` and `%` are checked before they build a huge string or number, `range` is
capped, and the output is cut off as soon as it passes its cap.
"""

from __future__ import annotations

import re
from typing import Any

from jinja2 import nodes
from jinja2.exceptions import SecurityError, TemplateError
from jinja2.sandbox import ImmutableSandboxedEnvironment

MAX_TEMPLATE_CHARS = 20_000
MAX_RENDERED_CHARS = 200_000
MAX_CONSTANT = 1_000_000
MAX_RANGE = 1000
MAX_LOOP_DEPTH = 2
SAFE_FILTERS = frozenset({
    "abs", "capitalize", "default", "d", "first", "float", "format", "int", "join", "last", "length",
    "list", "lower", "max", "min", "replace", "reverse", "round", "sort", "string", "sum", "title", "trim",
    "truncate", "unique", "upper", "wordcount", "batch", "slice", "dictsort", "tojson", "e", "escape", "count",
    "selectattr", "rejectattr", "map", "select", "reject", "groupby", "striptags",
})
SAFE_METHODS = frozenset({"items", "keys", "values", "get", "upper", "lower", "strip", "split", "join", "replace",
                          "startswith", "endswith"})
_FORBIDDEN_NODES = (nodes.Import, nodes.FromImport, nodes.Include, nodes.Extends, nodes.Macro, nodes.CallBlock,
                    nodes.Pow)
_FORMAT_WIDTH = re.compile(r"%[-+ #0]*(\d{3,}|\*)|\.(\d{3,})")


class _BoundedSandbox(ImmutableSandboxedEnvironment):
    """The sandbox, plus arithmetic that cannot build a gigabyte: `*` and `%` are checked first."""

    intercepted_binops = frozenset({"*", "%", "**"})

    def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
        if operator == "**":
            raise SecurityError("powers are not allowed in app templates")
        if operator == "*":
            for seq, times in ((left, right), (right, left)):
                if isinstance(seq, str | list | tuple) and isinstance(times, int) \
                        and len(seq) * times > MAX_RENDERED_CHARS:
                    raise SecurityError("a repeated string or list would pass the output cap")
            if isinstance(left, int) and isinstance(right, int) and left.bit_length() + right.bit_length() > 128:
                raise SecurityError("a product too large for a template")
        if operator == "%" and isinstance(left, str) and _FORMAT_WIDTH.search(left):
            raise SecurityError("format widths and precisions over 99 are not allowed")
        return super().call_binop(context, operator, left, right)


def _bounded_range(*args: int) -> range:
    numbers = range(*args)
    if len(numbers) > MAX_RANGE:
        raise SecurityError(f"range() may give at most {MAX_RANGE} numbers in an app template")
    return numbers


def _bounded_format(value: str, *args: Any, **kwargs: Any) -> str:
    if _FORMAT_WIDTH.search(str(value)):
        raise SecurityError("format widths and precisions over 99 are not allowed")
    return str(value) % (kwargs or args)


_ENV = _BoundedSandbox(autoescape=False, keep_trailing_newline=True)
_ENV.globals = {"range": _bounded_range, "dict": dict}  # no lipsum, cycler, joiner or namespace
_ENV.filters = {name: f for name, f in _ENV.filters.items() if name in SAFE_FILTERS}
_ENV.filters["format"] = _bounded_format


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
        if isinstance(node, nodes.Const) and isinstance(node.value, int | float) and abs(node.value) > MAX_CONSTANT:
            raise TemplateRefused(f"{where}: the number {node.value} is above {MAX_CONSTANT}")
        if isinstance(node, nodes.Filter) and node.name not in SAFE_FILTERS:
            raise TemplateRefused(f"{where}: filter {node.name!r} is not one of the allowed filters")
        if isinstance(node, nodes.Filter) and node.name == "map":
            for arg in node.args:  # map("name") applies another filter by name: only allowed ones
                if isinstance(arg, nodes.Const) and arg.value not in SAFE_FILTERS:
                    raise TemplateRefused(f"{where}: map may only apply the allowed filters, not {arg.value!r}")
        if isinstance(node, nodes.Call) and isinstance(node.node, nodes.Getattr) \
                and node.node.attr not in SAFE_METHODS:
            raise TemplateRefused(f"{where}: calling {node.node.attr!r} is not allowed in an app template")
        if isinstance(node, nodes.For) and node.recursive:
            raise TemplateRefused(f"{where}: recursive loops are not allowed in an app template")
    if _loop_depth(tree) > MAX_LOOP_DEPTH:
        raise TemplateRefused(f"{where}: loops may nest {MAX_LOOP_DEPTH} deep at most")


def _loop_depth(node: nodes.Node, around: int = 0) -> int:
    """How deep `for` loops nest at or below `node`."""
    here = around + isinstance(node, nodes.For)
    return max([here, *(_loop_depth(child, here) for child in node.iter_child_nodes())])


def render_template(source: str, values: dict[str, Any], where: str) -> str:
    """Render checked template source with plain data; sandbox violations become `TemplateRefused`."""
    check_template(source, where)
    pieces: list[str] = []
    size = 0
    try:
        for piece in _ENV.from_string(source).generate(**values):
            size += len(piece)
            if size > MAX_RENDERED_CHARS:
                raise TemplateRefused(f"{where}: rendered text passed the limit of {MAX_RENDERED_CHARS} characters")
            pieces.append(piece)
    except SecurityError as exc:
        raise TemplateRefused(f"{where}: {exc}") from exc
    except TemplateError as exc:
        raise TemplateRefused(f"{where}: template failed: {exc}") from exc
    except (ArithmeticError, TypeError, ValueError, LookupError) as exc:
        raise TemplateRefused(f"{where}: template failed: {type(exc).__name__}: {exc}") from exc
    return "".join(pieces)
