"""`answer()`: resolve the model, retrieve evidence when asked to, render and check the exact prompt,
generate. `prepare_answer()` does everything but the generation, so the API can stream the same
prepared answer that `answer()` would have collected.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from dataclasses import dataclass, field
from typing import Any

from ownllm.chat.answer_check import VERDICT_PARAMS, check_messages, says_supported, yes_probability
from ownllm.chat.policy import KNOWLEDGE_STOP, answer_in_the_question_language, is_decline, not_found_answer
from ownllm.chat.structured import (
    OutputConstraint,
    ToolCall,
    check_json,
    parse_tool_call,
    parse_tools,
    response_format_constraint,
    tool_constraint,
    tool_messages,
    tools_system_turn,
)
from ownllm.config import Settings
from ownllm.errors import InvalidInput, Overloaded
from ownllm.inference.engine import FINISH_CANCELLED, Completion, Message, SamplingParams, TokenDelta, TokenLogprob
from ownllm.inference.pool import EngineHandle, EnginePool, TokenStream
from ownllm.models.registry import ModelEntry, resolve_model, serving_spec
from ownllm.retrieval.rag import Evidence, cited_chunks, last_user_text, retrieve_for_chat
from ownllm.store.home import Home
from ownllm.text import question_lang

DEFAULT_MAX_TOKENS = 256
log = logging.getLogger("ownllm.chat")


@dataclass(frozen=True)
class Knowledge:
    """Ground the answer in the tenant's corpus: which version and how many passages to search."""

    corpus: str | int = "latest"
    top_k: int = 5


@dataclass
class AnswerRequest:
    model: str
    messages: list[Message]
    max_tokens: int | None = None  # None: DEFAULT_MAX_TOKENS, or what still fits the context
    temperature: float = 0.0
    top_p: float = 1.0
    stop: tuple[str, ...] | None = None  # None: the policy's default (one paragraph for grounded answers)
    seed: int | None = None
    knowledge: Knowledge | None = None
    response_format: dict[str, Any] | None = None  # {"type": "json_object"} or a json_schema
    tools: list[dict[str, Any]] | None = None  # OpenAI function tools
    tool_choice: Any = None  # none | auto | required | {"type": "function", "function": {"name": ...}}
    logprobs: bool = False
    top_logprobs: int = 0


@dataclass
class Answer:
    text: str
    finish_reason: str
    prompt_tokens: int
    completion_tokens: int
    citations: list[dict] | None = None  # None when no knowledge was asked for
    not_found: bool = False
    model: str = ""
    tool_calls: list[ToolCall] | None = None
    logprobs: list[TokenLogprob] | None = None
    first_token_at: float | None = None
    cpu_seconds: float = 0.0

    @property
    def usage(self) -> dict[str, int]:
        return {"prompt_tokens": self.prompt_tokens, "completion_tokens": self.completion_tokens,
                "total_tokens": self.prompt_tokens + self.completion_tokens}


@dataclass(frozen=True)
class AnswerCheck:
    """What a grounded answer is checked against: the messages the reader saw and the question asked."""

    grounded: list[Message]
    question: str
    # P(yes) below it turns the answer into a decline; prepare_answer passes the tenant home's setting
    threshold: float = Settings.model_fields["answer_check_threshold"].default


@dataclass
class PreparedAnswer:
    model: ModelEntry
    handle: EngineHandle
    prompt: list[int]
    params: SamplingParams
    citations: list[dict] | None
    evidence: list[Evidence] = field(default_factory=list)
    fixed_text: str | None = None  # said without generating (nothing to ground on)
    constraint: OutputConstraint | None = None
    check: AnswerCheck | None = None  # check the answer against its passages before giving it

    def stream(self, loop: asyncio.AbstractEventLoop | None = None) -> TokenStream:
        """Start generating; a fixed answer comes back as one delta with its exact token count.

        A checked answer is generated whole, checked, then given as one delta (grounded answers are one
        short sentence); the answer's generation is queued now, so a full queue fails before any stream.
        Cancelling the returned stream cancels the answer and the check (they share one cancel event).
        """
        if self.fixed_text is None and self.check is not None:
            inner = self.handle.stream(self.prompt, self.params)
            outer = TokenStream(len(self.prompt), loop, inner.cancel_event)
            threading.Thread(target=self._check_then_give, args=(inner, outer, self.check), daemon=True,
                             name="answer-check").start()
            return outer
        if self.fixed_text is None:
            return self.handle.stream(self.prompt, self.params, loop)
        stream = TokenStream(len(self.prompt), loop)
        stream.put(TokenDelta(self.fixed_text))
        stream.put(TokenDelta("", "stop", self.handle.count_tokens(self.fixed_text)))
        stream.end()
        return stream

    def _check_then_give(self, inner: TokenStream, outer: TokenStream, check: AnswerCheck) -> None:
        """Collect the reader's answer, ask the checker, give the answer or the not-found sentence.

        Usage counts all the work: the checker's prompt and verdict join the prompt tokens. A check that
        cannot run (its prompt would overflow the context, or the engine's queue is full) lets the answer
        through unchecked rather than failing work already done.
        """
        try:
            pieces, finish, completion_tokens = [], "stop", 0
            for delta in inner:
                pieces.append(delta.text)
                if delta.finish_reason:
                    finish, completion_tokens = delta.finish_reason, delta.completion_tokens
            outer.cpu_seconds = inner.cpu_seconds
            text = "".join(pieces)
            if not outer.cancelled and finish == "stop" and text.strip() and not is_decline(text):
                prompt = self.handle.chat_prompt(check_messages(check.grounded, text, question_lang(check.question)))
                if len(prompt) + VERDICT_PARAMS.max_tokens <= self.handle.n_ctx:
                    try:
                        verdict = self.handle.stream(prompt, VERDICT_PARAMS, cancelled=outer.cancel_event).collect()
                    except Overloaded:
                        log.warning("the answer check was skipped: the engine's queue is full")
                    else:
                        outer.prompt_tokens += verdict.prompt_tokens + verdict.completion_tokens
                        outer.cpu_seconds += verdict.cpu_seconds
                        supported = says_supported(verdict.text, yes_probability(verdict.logprobs),
                                                   check.threshold)
                        if verdict.finish_reason != FINISH_CANCELLED and not supported:
                            text = not_found_answer(check.question)
            outer.put(TokenDelta(text))
            outer.put(TokenDelta("", finish, completion_tokens))
        except BaseException as exc:  # handed to the consumer, who re-raises it
            outer.put(exc)
        finally:
            outer.end()

    def finish(self, completion: Completion) -> Answer:
        text = completion.text.strip() if self.citations is not None else completion.text
        declined = self.fixed_text is not None or (self.citations is not None and is_decline(text))
        answer = Answer(text, completion.finish_reason, completion.prompt_tokens, completion.completion_tokens,
                        self.citations, declined, self.model.id, logprobs=completion.logprobs,
                        first_token_at=completion.first_token_at, cpu_seconds=completion.cpu_seconds)
        constraint = self.constraint
        if constraint is not None and completion.finish_reason == "stop":
            if constraint.tools:
                call = parse_tool_call(text, constraint)
                if call is not None:
                    answer.tool_calls, answer.text, answer.finish_reason = [call], "", "tool_calls"
            else:
                check_json(text, constraint)
        return answer

    def complete(self) -> Answer:
        return self.finish(self.stream().collect())

    async def complete_async(self) -> Answer:
        return self.finish(await self.stream(asyncio.get_running_loop()).collect_async())


def _check_messages(messages: list[Message], settings: Settings) -> None:
    if not messages:
        raise InvalidInput("messages must hold at least one message", param="messages")
    total = sum(len(str(m.get("content") or "")) for m in messages)
    if total > settings.max_message_chars:
        raise InvalidInput(f"messages hold {total} characters; the limit is {settings.max_message_chars} "
                           "(setting OWNLLM_MAX_MESSAGE_CHARS)", param="messages", code="string_above_max_length")


def prepare_answer(home: Home, pool: EnginePool, tenant_id: str, request: AnswerRequest) -> PreparedAnswer:
    """Everything before generation; raises 4xx-shaped errors before any stream has started."""
    settings = home.settings
    _check_messages(request.messages, settings)
    entry = resolve_model(home, tenant_id, request.model)
    handle = pool.handle(serving_spec(entry, settings))
    messages = request.messages
    citations: list[dict] | None = None
    evidence: list[Evidence] = []
    fixed_text = None
    stop = request.stop
    if request.knowledge is not None:
        question = last_user_text(messages)
        if len(question) > settings.max_query_chars:
            raise InvalidInput(f"the question used to search the knowledge base has {len(question)} characters; "
                               f"the limit is {settings.max_query_chars}", param="messages",
                               code="string_above_max_length")
        augmented, evidence = retrieve_for_chat(home, tenant_id, messages, handle,
                                                corpus=request.knowledge.corpus, top_k=request.knowledge.top_k,
                                                passages=entry.reads_passages)
        citations = cited_chunks(evidence)
        if evidence:
            messages = augmented
        else:
            fixed_text = not_found_answer(question)
        stop = KNOWLEDGE_STOP if stop is None else stop
    if "zh" in entry.languages:  # only models that follow the instruction get it (see models/hub.py)
        messages = answer_in_the_question_language(messages)
    messages, template_vars, constraint = _structure(handle, messages, request)
    prompt = handle.chat_prompt(messages, **template_vars)
    max_tokens = _token_budget(request.max_tokens, len(prompt), handle.n_ctx)
    params = SamplingParams(max_tokens, request.temperature, request.top_p, tuple(stop or ()), request.seed,
                            constraint.grammar if constraint else None, request.logprobs, request.top_logprobs)
    check = None
    # the check sees only passages: not after tool turns or with tools
    plain_question = request.messages[-1].get("role") == "user" and not request.tools and not _has_tool_turns(
        request.messages)
    if (evidence and fixed_text is None and entry.checks_answers and settings.answer_check
            and constraint is None and not request.logprobs and plain_question):
        check = AnswerCheck(messages, last_user_text(request.messages), settings.answer_check_threshold)
    return PreparedAnswer(entry, handle, prompt, params, citations, evidence, fixed_text, constraint, check)


def _structure(handle: EngineHandle, messages: list[Message],
               request: AnswerRequest) -> tuple[list[Message], dict[str, Any], OutputConstraint | None]:
    """Tools (through the template when it formats them, else a system turn) or a response format."""
    tools = parse_tools(request.tools)
    template = getattr(handle.engine, "template", None)
    native = template is not None and template.mentions("tools")
    has_tool_turns = _has_tool_turns(messages)
    if not native and (tools or has_tool_turns):
        messages = tool_messages(messages)
    constraint = tool_constraint(tools, request.tool_choice,
                                 tagged=native and template is not None and "<tool_call>" in template.source)
    if constraint is not None:
        if native:
            return messages, {"tools": request.tools}, constraint
        return [tools_system_turn(constraint.tools or []), *messages], {}, constraint
    return messages, {}, response_format_constraint(request.response_format)


def _has_tool_turns(messages: list[Message]) -> bool:
    return any(m.get("role") == "tool" or m.get("tool_calls") for m in messages)


def _token_budget(asked: int | None, prompt_tokens: int, n_ctx: int) -> int:
    room = n_ctx - prompt_tokens
    if asked is None:
        if room < 1:
            raise InvalidInput(f"This model's maximum context length is {n_ctx} tokens; the messages use "
                               f"{prompt_tokens}.", param="messages", code="context_length_exceeded")
        return min(DEFAULT_MAX_TOKENS, room)
    if prompt_tokens + asked > n_ctx:
        raise InvalidInput(f"This model's maximum context length is {n_ctx} tokens; the messages use "
                           f"{prompt_tokens} and max_tokens asks for {asked} more.", param="messages",
                           code="context_length_exceeded")
    return asked


def answer(home: Home, pool: EnginePool, tenant_id: str, request: AnswerRequest) -> Answer:
    """The answer the API, `ownllm ask` and evaluation all give to the same request."""
    return prepare_answer(home, pool, tenant_id, request).complete()
