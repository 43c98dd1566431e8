"""Answer policy in one place: what a grounded answer is told, what it says when nothing was found,
and how it is cut."""

from __future__ import annotations

from ownllm.text import question_lang

NOT_FOUND_ANSWERS = {"en": "Not found in the knowledge base.", "zh": "知识库中没有找到相关内容。"}
NOT_FOUND_ANSWER = NOT_FOUND_ANSWERS["en"]
# small models tend to start a second, invented answer after a blank line: a grounded answer is one paragraph
KNOWLEDGE_STOP = ("\n\n",)
CLOSED_BOOK_SYSTEM = "Answer the question with the exact fact, in a few words."


def not_found_answer(question: str) -> str:
    """Said instead of generating when the corpus holds nothing to ground on, in the question's language."""
    return NOT_FOUND_ANSWERS[question_lang(question)]
