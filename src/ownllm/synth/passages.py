"""Raw-text records for continued pre-training, and continuation exercises for chat tuning.

Continued pre-training sees each chunk under its document title, so the model ties facts
to their source. A continuation record (first half of a chunk in, second half out) teaches
the same text through the chat template, which is what `sft-lora` trains on.
"""

from __future__ import annotations

from typing import Any

from ownllm.synth.records import chat_record, text_record
from ownllm.synth.source import SourceChunk, SourceDocument
from ownllm.synth.teacher import Teacher
from ownllm.text import sentences

CONTINUE_EN = "Continue this passage from \"{title}\":\n{head}"
CONTINUE_ZH = "续写《{title}》中的这段文字：\n{head}"
PARAPHRASE_EN = "Rewrite the following text in other words, keeping every fact and number:\n{text}"
PARAPHRASE_ZH = "用另一种说法改写下面的文字，保留所有事实和数字：\n{text}"


def cpt_record(chunk: SourceChunk, document: SourceDocument) -> dict[str, Any]:
    return text_record(f"{document.title}\n\n{chunk.text}", document_id=document.id, chunk_id=chunk.id,
                       generator="passages")


def continuation_record(chunk: SourceChunk, document: SourceDocument) -> dict[str, Any] | None:
    parts = sentences(chunk.text)
    if len(parts) < 2:
        return None
    half = len(parts) // 2
    joiner = "" if chunk.lang == "zh" else " "
    head, tail = joiner.join(parts[:half]), joiner.join(parts[half:])
    template = CONTINUE_ZH if chunk.lang == "zh" else CONTINUE_EN
    return chat_record(None, template.format(title=document.title, head=head), tail, document_id=document.id,
                       chunk_id=chunk.id, generator="continuation")


def paraphrase_record(teacher: Teacher, chunk: SourceChunk, document: SourceDocument) -> dict[str, Any] | None:
    """A teacher's rewording as extra pre-training text; kept only if it keeps the chunk's numbers."""
    template = PARAPHRASE_ZH if chunk.lang == "zh" else PARAPHRASE_EN
    rewritten = teacher.complete([{"role": "user", "content": template.format(text=chunk.text)}]).strip()
    numbers = {token for token in chunk.text.replace(",", "").split() if token.replace(".", "").isdigit()}
    if not rewritten or any(number not in rewritten.replace(",", "") for number in numbers):
        return None
    return text_record(f"{document.title}\n\n{rewritten}", document_id=document.id, chunk_id=chunk.id,
                       generator="paraphrase")
