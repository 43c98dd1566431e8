"""App specs: the six built-in apps validate; hostile or broken tenant specs are refused with the field."""

from __future__ import annotations

import copy

import pytest

from ownllm.apps.spec import AppSpecError, builtin_specs, parse_spec, with_ids
from ownllm.apps.templates import TemplateRefused, render_template

MINIMAL = {
    "name": "faq_answer",
    "title": "FAQ answer",
    "inputs": {"type": "object", "properties": {"question": {"type": "string"}}, "required": ["question"]},
    "retrieval": {"query": "{{ question }}", "top_k": 3},
    "prompt": "{% for s in sources %}[{{ s.id }}] {{ s.text }}\n{% endfor %}Answer: {{ question }}",
    "output": {"type": "object", "properties": {"answer": {"type": "string"},
                                                "source": {"type": "string", "x-ids": "sources"}},
               "required": ["answer", "source"]},
    "checks": [{"check": "language"}],
    "render": "{{ output.answer }} [{{ output.source }}]",
}


def with_change(path: str, value: object) -> dict:
    spec = copy.deepcopy(MINIMAL)
    *parents, last = path.split(".")
    node = spec
    for key in parents:
        node = node[key]
    node[last] = value
    return spec


def test_the_six_builtin_apps_validate_and_are_bilingual() -> None:
    specs = builtin_specs()
    assert set(specs) == {"meeting_minutes", "chat_digest", "marketing_plan", "shopping_plan", "voice_request",
                          "sketch_to_app"}
    for spec in specs.values():
        assert spec.builtin
        assert spec.text("prompt", "zh") != spec.text("prompt", "en"), spec.name
        assert spec.text("render", "zh") and spec.text("render", "en"), spec.name


def test_a_minimal_tenant_spec_validates_and_ids_become_enums() -> None:
    spec = parse_spec(MINIMAL)
    schema = with_ids(spec.output_schema({}), {"sources": ["S1", "S2"]})
    assert schema["properties"]["source"]["enum"] == ["S1", "S2"]
    assert schema["properties"]["answer"]["maxLength"] > 0  # free strings are bounded
    assert with_ids(spec.output_schema({}), {})["properties"]["source"]["enum"] == ["none"]


@pytest.mark.parametrize(("change", "named"), [
    (("prompt", "{{ question.__class__.__mro__ }}"), "private"),
    (("prompt", "{{ cycler.__init__.__globals__.os }}"), "private"),
    (("render", "{{ output['__class__'] }}"), "__class__"),
    (("prompt", "{% import 'os' as os %}{{ os }}"), "import"),
    (("prompt", "{% include '/etc/passwd' %}"), "include"),
    (("prompt", "{% extends 'base.html' %}"), "extends"),
    (("prompt", "{{ question | attr('upper') }}"), "attr"),
    (("prompt", "{{ question.encode('utf-8') }}"), "encode"),
    (("prompt", "{{ _private }}"), "_private"),
    (("prompt", "{% macro m() %}x{% endmacro %}"), "macro"),
    (("prompt", "{{ 10 ** 10 ** 10 }}"), "pow"),
    (("prompt", "{{ [question] | map('attr', 'format') | list }}"), "map"),
    (("prompt", "{% for a in x %}{% for b in x %}{% for c in x %}{% endfor %}{% endfor %}{% endfor %}"), "nest"),
    (("prompt", "{{ '{0:>999999999}'.format(1) }}"), "format"),
    (("output", {"type": "object", "properties": {"x": {"type": "string", "maxLength": 1000000000}}}), "limit"),
    (("output", {"type": "object", "properties": {"x": {"$ref": "file:///etc/passwd"}}}), "outside"),
    (("inputs", {"type": "object", "properties": {"x": {"$ref": "http://169.254.169.254/"}}}), "outside"),
    (("inputs", {"type": "object", "properties": {"x": {"type": "string", "pattern": "(a+)+$"}}}), "pattern"),
    (("output", {"type": "object", "properties": {"x-ids": {"type": "string", "x-ids": {"a": 1}}}}), "x-ids"),
    (("output", {"type": "object", "properties": {"n": {"type": "integer", "x-ids": "sources"}}}), "x-ids"),
    (("name", "runs"), "reserved"),
    (("prompt", "{{ unclosed "), "does not parse"),
    (("retrieval.query", "{{ q.__dict__ }}"), "__dict__"),
    (("checks", [{"check": "rm_rf"}]), "unknown check"),
    (("derive", ["exec_python"]), "unknown derivation"),
    (("prepare", "shell"), "unknown preparation"),
    (("name", "../../etc"), "name"),
    (("surprise", 1), "surprise"),
    (("output", {"type": "array"}), "type object"),
    (("output", {"type": "object", "properties": {"x": {"type": "string", "x-ids": "passwords"}}}), "x-ids"),
    (("output", {"type": "object", "properties": {"x": {"type": "strin"}}}), "output"),
    (("max_tokens", 100000), "max_tokens"),
])
def test_hostile_or_broken_specs_are_refused_naming_the_field(change: tuple[str, object], named: str) -> None:
    with pytest.raises(AppSpecError, match=named.replace("[", r"\[").replace("(", r"\(")):
        parse_spec(with_change(*change))


def test_oversized_or_non_mapping_specs_are_refused() -> None:
    with pytest.raises(AppSpecError, match="limit"):
        parse_spec("name: x\n" + "#" * 70_000)
    with pytest.raises(AppSpecError, match="mapping"):
        parse_spec("- just\n- a list\n")
    with pytest.raises(AppSpecError, match="YAML"):
        parse_spec("name: [unclosed")


def test_the_sandbox_refuses_at_render_time_too() -> None:
    # a template that passes the static check but reaches an unsafe attribute at run time
    with pytest.raises(TemplateRefused):
        render_template("{{ value.format.__self__ }}", {"value": "x"}, "prompt")
    with pytest.raises(TemplateRefused, match="limit"):
        render_template("{% for i in range(1000) %}{% for j in range(1000) %}xx{% endfor %}{% endfor %}", {}, "p")
    for runaway in ('{{ "a" * 1000000 * 1000 }}', "{% for i in range(100000) %}{% endfor %}",
                    "{{ '%999999999d' | format(1) }}", "{{ x * 999999 }}", "{{ lipsum(1000000) }}",
                    "{{ cycler.__init__ }}"):
        with pytest.raises(TemplateRefused):
            render_template(runaway, {"x": "abc"}, "prompt")
    assert render_template("{{ items | join(', ') }}", {"items": ["a", "b"]}, "prompt") == "a, b"
