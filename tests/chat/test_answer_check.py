"""The grounded-answer check (chat/answer_check.py) as plumbing, with the fake engine of tests/fakes.py.

The fake engine replies with the last user line's words reversed, so the checker's verdict is set by
the grounded question's first line: "... yes" makes the verdict "yes ...", "... no" makes it "no ...".
What the 1.5B reader's checker decides on the sample company is measured in bench/knowledge.py.
"""

from __future__ import annotations

import asyncio
import math
from pathlib import Path

import pytest

from ownllm.chat.answer import AnswerCheck, PreparedAnswer
from ownllm.chat.answer_check import check_messages, says_supported, yes_probability
from ownllm.chat.policy import NOT_FOUND_ANSWERS
from ownllm.inference.engine import EngineSpec, SamplingParams, TokenLogprob
from ownllm.models.registry import ModelEntry
from tests.fakes import fake_pool

READER = ModelEntry("reader", "ownllm", Path("/models/reader.gguf"), "base", "test", reads_passages=True,
                    checks_answers=True)


def _prepared(pool, question: str, grounded_first_line: str) -> PreparedAnswer:  # type: ignore[no-untyped-def]
    handle = pool.handle(EngineSpec(Path("/models/reader.gguf"), n_ctx=2048))
    prompt = handle.chat_prompt([{"role": "user", "content": "blue is sky the"}])
    grounded = [{"role": "system", "content": "read"},
                {"role": "user", "content": f"{grounded_first_line}\n[1] passage\n\nQuestion: {question}"}]
    return PreparedAnswer(READER, handle, prompt, SamplingParams(max_tokens=16), [], check=AnswerCheck(grounded,
                                                                                                      question))


@pytest.mark.parametrize(("first_line", "expected"), [("the passage says yes", "the sky is blue"),
                                                      ("the passage says no", NOT_FOUND_ANSWERS["en"])])
def test_a_no_from_the_checker_becomes_the_not_found_answer_and_a_yes_keeps_it(first_line: str,
                                                                                expected: str) -> None:
    pool = fake_pool()
    prepared = _prepared(pool, "What colour is the sky?", first_line)
    answer = prepared.complete()
    assert answer.text == expected
    assert answer.not_found == (expected == NOT_FOUND_ANSWERS["en"])
    # usage counts the checker's prompt and verdict too
    checker_prompt = prepared.handle.chat_prompt(check_messages(prepared.check.grounded, "the sky is blue", "en"))
    assert answer.prompt_tokens == len(prepared.prompt) + len(checker_prompt) + 2
    assert answer.completion_tokens == 4
    # the stream gives the same text, as one delta after the check, then the finish
    streamed = list(_prepared(pool, "What colour is the sky?", first_line).stream())
    assert "".join(d.text for d in streamed) == expected and streamed[-1].finish_reason == "stop"
    pool.close()


def test_a_chinese_question_is_declined_in_chinese_and_the_async_path_agrees() -> None:
    pool = fake_pool()

    async def run() -> str:
        return (await _prepared(pool, "天空是什么颜色？", "文档 no").complete_async()).text

    assert asyncio.run(run()) == NOT_FOUND_ANSWERS["zh"]
    pool.close()


def test_an_answer_that_already_declines_is_not_checked_again() -> None:
    pool = fake_pool()
    handle = pool.handle(EngineSpec(Path("/models/reader.gguf"), n_ctx=2048))
    # reversed: "Not found in the knowledge base." is what the reader says
    prompt = handle.chat_prompt([{"role": "user", "content": "base. knowledge the in found Not"}])
    grounded = [{"role": "user", "content": "passage no\n\nQuestion: q"}]
    prepared = PreparedAnswer(READER, handle, prompt, SamplingParams(max_tokens=16), [],
                              check=AnswerCheck(grounded, "q"))
    generations_before = pool.made[0].generations
    answer = prepared.complete()
    assert answer.not_found and answer.prompt_tokens == len(prompt)
    assert pool.made[0].generations == generations_before + 1  # the reader only, no checker turn
    pool.close()


def test_cancelling_a_checked_stream_stops_the_answer_and_runs_no_check() -> None:
    pool = fake_pool(delay_s=0.2)
    prepared = _prepared(pool, "What colour is the sky?", "the passage says no")
    stream = prepared.stream()
    stream.cancel()  # the client left before the first token
    deltas = list(stream)
    assert "".join(d.text for d in deltas) != NOT_FOUND_ANSWERS["en"]  # no verdict was asked for
    assert pool.made[0].generations <= 1  # the answer at most (cancelled within a token), never the check
    pool.close()


def test_an_engine_error_reaches_the_reader_of_a_checked_stream() -> None:
    pool = fake_pool()
    handle = pool.handle(EngineSpec(Path("/models/reader.gguf"), n_ctx=2048))
    prompt = handle.chat_prompt([{"role": "user", "content": "EXPLODE please"}])
    prepared = PreparedAnswer(READER, handle, prompt, SamplingParams(max_tokens=16), [],
                              check=AnswerCheck([{"role": "user", "content": "x yes"}], "q"))
    with pytest.raises(RuntimeError, match="exploded"):
        prepared.complete()
    # an error in the check's own generation too
    prepared = _prepared(pool, "What colour is the sky?", "EXPLODE the passage")
    with pytest.raises(RuntimeError, match="exploded"):
        prepared.complete()
    pool.close()


def test_the_verdict_and_the_checker_turn() -> None:
    assert says_supported("Yes") and says_supported("yes") and says_supported("")
    assert not says_supported("No") and not says_supported(" no")
    # with the first token's distribution: every spelling of each word counts, other tokens do not
    first = TokenLogprob("Yes", math.log(0.3), [("Yes", math.log(0.3)), ("No", math.log(0.5)), (" yes", math.log(0.1)),
                                                 ("Maybe", math.log(0.05)), ("no", math.log(0.05))])
    assert yes_probability([first]) == pytest.approx(0.4 / 0.95)
    assert yes_probability(None) is None and yes_probability([TokenLogprob("x", 0.0, [("x", 0.0)])]) is None
    assert not says_supported("Yes", 0.42) and says_supported("No", 0.42, threshold=0.3)
    assert says_supported("Yes", None) and not says_supported("No", None, threshold=0.1)
    conversation = [{"role": "system", "content": "reader rules"}, {"role": "user", "content": "earlier"},
                    {"role": "assistant", "content": "x"}, {"role": "user", "content": "Documents: d\n\nQuestion: q"}]
    turn = check_messages(conversation, " Paris ", "zh")
    assert [m["role"] for m in turn] == ["system", "user"]
    assert "reader rules" not in turn[0]["content"] and "earlier" not in turn[1]["content"]
    assert turn[1]["content"].startswith("Documents: d\n\nQuestion: q\n\n候选答案: Paris\n\n")


def test_the_check_runs_on_a_real_reader_through_llama_cpp(acme, monkeypatch) -> None:
    """The real path with Qwen 0.5B (installed by `make install`): the verdict grammar, the usage, stream and
    complete agreeing. The 0.5B is not a checker in the hub (it cannot judge, see models/hub.py), so the
    test makes it one; what it decides is not asserted, only that a decision is one of the two answers."""
    from dataclasses import replace

    from ownllm.chat import answer as answer_module
    from ownllm.chat.answer import AnswerRequest, Knowledge, prepare_answer
    from ownllm.inference.pool import shared_pool
    from ownllm.models.registry import resolve_model

    pool = shared_pool(acme.home.settings.engine_memory_mb)
    request = AnswerRequest(model="qwen2.5-coder-0.5b-instruct", knowledge=Knowledge(),
                            messages=[{"role": "user", "content": "How much does the Aurel 300 cost?"}])
    unchecked = prepare_answer(acme.home, pool, acme.tenant_id, request)
    assert unchecked.check is None  # the hub's 0.5B is not a checker
    plain = unchecked.complete()
    assert not plain.not_found, plain.text  # the catalogue names the Aurel 300's price
    monkeypatch.setattr(answer_module, "resolve_model",
                        lambda *a, **k: replace(resolve_model(*a, **k), checks_answers=True))
    # no check where the answer is not a plain sentence from passages, or when it is turned off
    for other in (replace(request, logprobs=True), replace(request, response_format={"type": "json_object"}),
                  replace(request, tools=[{"type": "function", "function": {"name": "f", "parameters": {}}}])):
        assert prepare_answer(acme.home, pool, acme.tenant_id, other).check is None
    monkeypatch.setattr(acme.home.settings, "answer_check", False)
    assert prepare_answer(acme.home, pool, acme.tenant_id, request).check is None
    monkeypatch.setattr(acme.home.settings, "answer_check", True)
    checked = prepare_answer(acme.home, pool, acme.tenant_id, request)
    assert checked.check is not None and checked.check.question == request.messages[-1]["content"]
    assert checked.check.threshold == acme.home.settings.answer_check_threshold
    # the checker reads the reader's own turn: the documents, then the question
    check_turn = checked.check.grounded[-1]["content"]
    assert check_turn.startswith("Documents:\n[1] ") and check_turn.endswith("\n\nQuestion: How much does the "
                                                                              "Aurel 300 cost?")
    assert checked.handle.chat_prompt(checked.check.grounded) == checked.prompt  # exactly what the reader was given
    answer = checked.complete()
    assert answer.text in (plain.text, NOT_FOUND_ANSWERS["en"])
    assert answer.prompt_tokens > plain.prompt_tokens + len(checked.prompt) // 2  # the passages were read again
    streamed = "".join(d.text for d in prepare_answer(acme.home, pool, acme.tenant_id, request).stream())
    assert streamed == answer.text
