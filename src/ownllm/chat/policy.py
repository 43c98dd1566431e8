"""Answer policy in one place: what a grounded answer is told, what it says when nothing was found,
and how it is cut."""

from __future__ import annotations

import re
from typing import Any

from ownllm.text import question_lang

NOT_FOUND_ANSWERS = {"en": "Not found in the knowledge base.", "zh": "知识库中没有找到相关内容。"}
NOT_FOUND_ANSWER = NOT_FOUND_ANSWERS["en"]
# small models tend to start a second, invented answer after a blank line: a grounded answer is one paragraph
KNOWLEDGE_STOP = ("\n\n",)
CLOSED_BOOK_SYSTEM = "Answer the question with the exact fact, in a few words."


def not_found_answer(question: str) -> str:
    """Said instead of generating when the corpus holds nothing to ground on, in the question's language."""
    return NOT_FOUND_ANSWERS[question_lang(question)]


# how readers say "the documents do not say": our own not-found sentences and the usual paraphrases
_DECLINES = re.compile(
    r"not found in the knowledge base|(?:is|are) not (?:mentioned|provided|stated|given|specified|included)"
    r"|(?:do|does) not (?:contain|mention|say|provide|specify|include)|no (?:information|mention) (?:about|of|on)"
    r"|cannot be (?:found|determined|answered)|知识库中没有|没有找到|未(?:提及|提到|找到|说明)"
    r"|没有(?:提及|提到|相关|说明)|无法(?:回答|确定|找到)|不包含", re.IGNORECASE)


def is_decline(text: str) -> bool:
    """The answer says the knowledge does not hold the answer (scored right on unanswerable questions)."""
    return bool(_DECLINES.search(text))


ANSWER_IN_CHINESE = "请用中文回答。"


def answer_in_the_question_language(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """A Chinese question gets a Chinese instruction to answer in Chinese (English is the models' default).

    It joins the caller's (or the grounding) system turn, or becomes one.
    """
    question = next((str(m.get("content") or "") for m in reversed(messages) if m.get("role") == "user"), "")
    if question_lang(question) != "zh":
        return messages
    if messages and messages[0].get("role") == "system":
        first = dict(messages[0])
        first["content"] = f"{first.get('content') or ''}\n{ANSWER_IN_CHINESE}".strip()
        return [first, *messages[1:]]
    return [{"role": "system", "content": ANSWER_IN_CHINESE}, *messages]
