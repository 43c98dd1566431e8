"""The answer policy and structured output, without a model: the question's language, tool-call
grammars and parsing, schema checks."""

from __future__ import annotations

import json

import pytest

from ownllm.chat.policy import ANSWER_IN_CHINESE, answer_in_the_question_language, is_decline, not_found_answer
from ownllm.chat.structured import (
    check_json,
    parse_tool_call,
    parse_tools,
    response_format_constraint,
    tool_constraint,
    tool_messages,
)
from ownllm.errors import InvalidInput
from ownllm.evaluate.systems import in_language

TOOLS = [{"type": "function", "function": {"name": "lookup", "parameters": {
    "type": "object", "properties": {"code": {"type": "string"}}, "required": ["code"]}}}]


def test_a_chinese_question_is_told_to_be_answered_in_chinese() -> None:
    english = [{"role": "user", "content": "How long is the warranty?"}]
    assert answer_in_the_question_language(english) == english
    chinese = answer_in_the_question_language([{"role": "user", "content": "保修期是多久？"}])
    assert chinese[0] == {"role": "system", "content": ANSWER_IN_CHINESE}
    grounded = answer_in_the_question_language([{"role": "system", "content": "Use the context."},
                                                {"role": "user", "content": "保修期是多久？"}])
    assert grounded[0]["content"].endswith(ANSWER_IN_CHINESE) and len(grounded) == 2
    assert not_found_answer("保修期是多久？") != not_found_answer("How long?")


def test_tool_choice_shapes_the_grammar_and_calls_parse() -> None:
    tools = parse_tools(TOOLS)
    assert tool_constraint(tools, "none", tagged=False) is None
    forced = tool_constraint(tools, "required", tagged=False)
    assert forced is not None and "text ::=" not in forced.grammar and '\\"lookup\\"' in forced.grammar
    auto = tool_constraint(tools, "auto", tagged=True)
    assert auto is not None and "text ::=" in auto.grammar and "<tool_call>" in auto.grammar
    call = parse_tool_call('<tool_call>\n{"name": "lookup", "arguments": {"code": "VM-A300"}}\n</tool_call>', auto)
    assert call is not None and call.name == "lookup" and json.loads(call.arguments) == {"code": "VM-A300"}
    assert parse_tool_call("The code is VM-A300.", auto) is None  # auto: the model answered in text
    with pytest.raises(InvalidInput, match="not in tools"):
        tool_constraint(tools, {"type": "function", "function": {"name": "other"}}, tagged=False)
    with pytest.raises(InvalidInput, match="tools\\[0\\]"):
        parse_tools([{"type": "function"}])


def test_tool_turns_become_plain_turns_for_templates_without_tools() -> None:
    turns = tool_messages([
        {"role": "user", "content": "Look up VM-A300"},
        {"role": "assistant", "content": "", "tool_calls": [
            {"id": "c1", "type": "function", "function": {"name": "lookup", "arguments": '{"code": "VM-A300"}'}}]},
        {"role": "tool", "tool_call_id": "c1", "content": '{"price": 1299}'}])
    assert [t["role"] for t in turns] == ["user", "assistant", "user"]
    assert json.loads(turns[1]["content"]) == {"name": "lookup", "arguments": {"code": "VM-A300"}}
    assert turns[2]["content"] == 'Tool result: {"price": 1299}'


def test_response_formats_are_checked() -> None:
    assert response_format_constraint({"type": "text"}) is None
    schema = {"type": "object", "properties": {"n": {"type": "integer"}}, "required": ["n"]}
    constraint = response_format_constraint({"type": "json_schema", "json_schema": {"name": "x", "schema": schema}})
    assert constraint is not None and constraint.schema == schema
    check_json('{"n": 3}', constraint)
    with pytest.raises(InvalidInput, match="cut before the JSON was complete"):
        check_json('{"n": 3', constraint)
    with pytest.raises(InvalidInput, match="not supported"):
        response_format_constraint({"type": "yaml"})
    with pytest.raises(InvalidInput, match="schema cannot be used"):
        response_format_constraint({"type": "json_schema", "json_schema": {"schema": {"type": "nonsense"}}})


def test_declines_are_recognised_in_both_languages_and_answers_are_not() -> None:
    for text in ("Not found in the knowledge base.", "The CFO is not mentioned in the documents.",
                 "The documents do not contain the price.", "知识库中没有找到相关内容。", "文档中未提及该型号。"):
        assert is_decline(text), text
    for text in ("10 years", "The Aurel 300 costs 2,890 USD.", "45天", "退货期限为45天"):
        assert not is_decline(text), text


def test_answers_are_checked_for_the_question_language() -> None:
    assert in_language("45天", "zh") and in_language("2,890 USD", "zh") and in_language("VM-A300", "zh")
    assert not in_language("Customers may return products within 45 days", "zh")
    assert in_language("10 years", "en") and not in_language("十年", "en")
