"""Chat templates rendered in a sandbox, split into template text and message content.

A GGUF carries its chat template as Jinja source, i.e. code from whoever made the file. It
runs in Jinja's immutable sandbox, so a template that reaches for Python internals
(`''.__class__.__mro__`, `cycler.__init__.__globals__`) fails with `TemplateRefused` instead of
running. Each message's content is rendered as a unique placeholder first; the output is then
cut at the placeholders, so the engine can tokenize the template's own text with control
tokens and the content as plain text: a user (or a retrieved document) typing `<|im_end|>`
cannot close a turn and forge the next one.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import jinja2
import jinja2.ext
from jinja2.exceptions import SecurityError, TemplateError
from jinja2.sandbox import ImmutableSandboxedEnvironment

from ownllm.errors import InvalidInput

# used when a model file carries no template: ChatML, what SmolLM2 and Qwen2.5 both speak
CHATML = (
    "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>\n'}}"
    "{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}"
)
_OPEN, _CLOSE = "\ue000", "\ue001"  # private-use characters: no template or tokenizer gives them meaning


class TemplateRefused(InvalidInput):
    """The model's chat template tried something a template must not do."""

    code = "chat_template_refused"


@dataclass(frozen=True)
class Segment:
    text: str
    is_content: bool  # True: a message's content, tokenized without special tokens


def _raise(message: str) -> None:
    raise TemplateError(message)


def _tojson(value: Any, indent: int | None = None, **_: Any) -> str:
    return json.dumps(value, ensure_ascii=False, indent=indent)


class ChatTemplate:
    def __init__(self, source: str | None, bos_token: str = "", eos_token: str = "") -> None:
        environment = ImmutableSandboxedEnvironment(
            loader=jinja2.BaseLoader(), trim_blocks=True, lstrip_blocks=True, autoescape=False,
            extensions=[jinja2.ext.loopcontrols],
        )
        environment.filters["tojson"] = _tojson
        environment.globals["raise_exception"] = _raise
        environment.globals["strftime_now"] = lambda fmt: datetime.now().strftime(fmt)
        try:
            self._template = environment.from_string(source or CHATML)
        except TemplateError as exc:
            raise TemplateRefused(f"the model's chat template does not compile: {exc}", param="model") from exc
        self.bos_token = bos_token
        self.eos_token = eos_token
        self.source = source or CHATML

    def render(self, messages: list[dict[str, Any]], add_generation_prompt: bool = True, **variables: Any) -> str:
        """The prompt text; `variables` are what a template may read besides messages (e.g. `tools`)."""
        try:
            return self._template.render(messages=messages, add_generation_prompt=add_generation_prompt,
                                         bos_token=self.bos_token, eos_token=self.eos_token, **variables)
        except SecurityError as exc:
            raise TemplateRefused(f"the model's chat template was refused by the sandbox: {exc}",
                                  param="model") from exc
        except TemplateError as exc:
            raise InvalidInput(f"the chat template rejected these messages: {exc}", param="messages") from exc

    def segments(self, messages: list[dict[str, Any]], neutralize: Callable[[str], str],
                 add_generation_prompt: bool = True, **variables: Any) -> list[Segment]:
        """The rendered prompt as template text and message contents, in order.

        `neutralize` breaks control-token strings in a text; it is used only for a template that
        rewrites contents (trims or repeats them), where the placeholders cannot be found again.
        """
        marked = [{**m, "content": f"{_OPEN}{i}{_CLOSE}"} for i, m in enumerate(messages)]
        rendered = self.render(marked, add_generation_prompt, **variables)
        out: list[Segment] = []
        cursor = 0
        for index, message in enumerate(messages):
            marker = f"{_OPEN}{index}{_CLOSE}"
            found = rendered.find(marker, cursor)
            if found < 0 or rendered.count(marker) != 1:
                safe = [{**m, "content": neutralize(str(m.get("content") or ""))} for m in messages]
                return [Segment(self.render(safe, add_generation_prompt, **variables), False)]
            if found > cursor:
                out.append(Segment(rendered[cursor:found], False))
            out.append(Segment(str(message.get("content") or ""), True))
            cursor = found + len(marker)
        if cursor < len(rendered):
            out.append(Segment(rendered[cursor:], False))
        return out

    def mentions(self, variable: str) -> bool:
        """Whether the template reads a variable (e.g. `tools`: it formats tool definitions itself)."""
        return variable in self.source
