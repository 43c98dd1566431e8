"""Teacher-written training data, every call constrained to a JSON schema (a grammar in-process,
`response_format` for a remote teacher), so even a small teacher's reply parses.

- **natural**: facts of a chunk, each asked in several phrasings a person would use (knowledge seen
  in one phrasing is memorized, not extractable), the answer copied from the text.
- **multi-hop**: two chunks of different documents that name the same thing; one question needing both.
- **unanswerable**: a question on the chunk's subject that the text does not answer; the trained answer
  is the decline, in the question's language.
- **entity passages** (EntiGraph-style): the chunk's entities, then short passages relating pairs
  of them in the text's own terms, as continued-pretraining text.
- **judge**: the teacher grades a sample of what the filters kept and removed, so each filter's effect
  is measured; the judged-bad kept pairs are dropped.

Everything still passes the grounding filters afterwards: a small teacher invents freely.
"""

from __future__ import annotations

import json
import random
import re
from dataclasses import dataclass, field
from itertools import combinations
from typing import Any

from ownllm.chat.policy import not_found_answer
from ownllm.retrieval.rag import specific_terms
from ownllm.synth.filters import normalize, share_in_source
from ownllm.synth.records import QAPair, text_record
from ownllm.synth.source import SourceChunk, SourceDocument
from ownllm.synth.teacher import Teacher

_NAME = re.compile(r"\b[A-Z][a-z]+(?: [A-Z0-9][\w-]*)+\b|\b[A-Z]{2,}-[A-Z]?\d+\b")
_CJK_NAME = re.compile(r"[\u4e00-\u9fff]{2,8}(?:公司|中心|车行|门店|出行)")
MAX_CHUNK_CHARS = 1800


def _schema(properties: dict[str, Any]) -> dict[str, Any]:
    return {"type": "object", "properties": properties, "required": list(properties)}


def _ask(teacher: Teacher, prompt: str, schema: dict[str, Any]) -> dict[str, Any] | None:
    reply = teacher.complete([{"role": "user", "content": prompt}], schema=schema)
    try:
        value = json.loads(reply)
    except (json.JSONDecodeError, TypeError):
        return None
    return value if isinstance(value, dict) else None


_NATURAL = {
    "en": ("Read the text and pick up to {n} facts a customer or employee might ask about. For each fact, write 3 "
           "different questions asking for it, the way a person would ask, naming the subject (never 'the text' or "
           "'the document'); then copy the answer word for word from the text: only the words that answer, such as "
           "a number with its unit, a date or a name, never the whole sentence.\n\nText ({title}):\n{text}"),
    "zh": ("阅读下面的文字，挑出最多{n}个客户或员工可能会问的事实。每个事实：先用3种不同的说法提问，像真人提问那样"
           "点明对象（不要说“这段文字”或“文档”）；再从原文中逐字摘录答案：只要回答问题的那几个词，例如带单位的数字、"
           "日期或名称，不要整句。\n\n文字（{title}）：\n{text}"),
}


def natural_pairs(teacher: Teacher, chunk: SourceChunk, document: SourceDocument, n: int = 3) -> list[QAPair]:
    # questions before the answer: an answer written after its questions is the span they ask for, not the
    # sentence it sits in (measured on Qwen 0.5B: with the answer first it copied whole sentences)
    schema = _schema({"facts": {"type": "array", "minItems": 1, "maxItems": n, "items": _schema({
        "questions": {"type": "array", "minItems": 2, "maxItems": 3, "items": {"type": "string", "maxLength": 200}},
        "answer": {"type": "string", "maxLength": 120},
    })}})
    lang = "zh" if chunk.lang == "zh" else "en"
    reply = _ask(teacher, _NATURAL[lang].format(n=n, title=document.title or document.name,
                                                text=chunk.text[:MAX_CHUNK_CHARS]), schema)
    pairs = []
    for number, fact in enumerate((reply or {}).get("facts", [])):
        for phrasing, question in enumerate(fact.get("questions", [])):
            pairs.append(QAPair(question.strip(), fact.get("answer", "").strip(), chunk.lang, document.id, chunk.id,
                                "natural", meta={"teacher": teacher.name, "fact": f"{chunk.id}#{number}",
                                                 "phrasing": phrasing}))
    return pairs


def entity_names(text: str) -> set[str]:
    """Names a chunk mentions: product codes, capitalized multi-word names, Chinese organisation names."""
    return {m.strip() for m in _NAME.findall(text)} | set(_CJK_NAME.findall(text)) | specific_terms(text)


def linked_chunks(documents: list[SourceDocument], limit: int, seed: int = 0) -> list[tuple[SourceChunk,
                                                                                                SourceChunk, str]]:
    """Pairs of chunks from different documents naming the same thing (and the thing), at most `limit`."""
    owners: dict[str, list[tuple[str, SourceChunk]]] = {}
    for document in documents:
        for chunk in document.chunks:
            for name in entity_names(chunk.text):
                if len(name) >= 3 and not name.isdigit():
                    owners.setdefault(name, []).append((document.id, chunk))
    links = []
    for name, places in sorted(owners.items()):
        for (doc_a, chunk_a), (doc_b, chunk_b) in combinations(places[:6], 2):
            if doc_a != doc_b and chunk_a.lang == chunk_b.lang:
                links.append((chunk_a, chunk_b, name))
    random.Random(seed).shuffle(links)
    out, used = [], set()
    for chunk_a, chunk_b, name in links:
        key = frozenset((chunk_a.id, chunk_b.id))
        if key not in used:
            used.add(key)
            out.append((chunk_a, chunk_b, name))
        if len(out) >= limit:
            break
    return out


_MULTIHOP = {
    "en": ("Both passages mention {name}. Write one question whose answer needs a fact from passage 1 AND a fact "
           "from passage 2, and its short answer taken from the passages.\n\nPassage 1:\n{a}\n\nPassage 2:\n{b}"),
    "zh": ("两段文字都提到了{name}。请写一个问题，回答它需要同时用到第1段和第2段中的事实，"
           "并给出从文字中摘取的简短答案。\n\n第1段：\n{a}\n\n第2段：\n{b}"),
}


def multihop_pair(teacher: Teacher, chunk_a: SourceChunk, chunk_b: SourceChunk, name: str,
                  document_of: dict[str, str]) -> QAPair | None:
    lang = "zh" if chunk_a.lang == "zh" else "en"
    reply = _ask(teacher, _MULTIHOP[lang].format(name=name, a=chunk_a.text[:900], b=chunk_b.text[:900]),
                 _schema({"question": {"type": "string", "maxLength": 240},
                          "answer": {"type": "string", "maxLength": 160}}))
    if not reply or not reply.get("question") or not reply.get("answer"):
        return None
    return QAPair(reply["question"].strip(), reply["answer"].strip(), chunk_a.lang, document_of[chunk_a.id],
                  chunk_a.id, "multihop", meta={"teacher": teacher.name, "second_chunk": chunk_b.id, "link": name,
                                                "second_document": document_of[chunk_b.id]})


_UNANSWERABLE = {
    "en": ("Write a question about the same subject as this text that a reader could ask but that the text does NOT "
           "answer (a detail it never states). Name the subject.\n\nText ({title}):\n{text}"),
    "zh": ("请针对这段文字的同一主题，写一个读者可能会问、但文字中并没有回答的问题（文中没有提到的细节），要点明对象。"
           "\n\n文字（{title}）：\n{text}"),
}


def unanswerable_pair(teacher: Teacher, chunk: SourceChunk, document: SourceDocument) -> QAPair | None:
    lang = "zh" if chunk.lang == "zh" else "en"
    reply = _ask(teacher, _UNANSWERABLE[lang].format(title=document.title or document.name,
                                                     text=chunk.text[:MAX_CHUNK_CHARS]),
                 _schema({"question": {"type": "string", "maxLength": 240}}))
    if not reply or not reply.get("question"):
        return None
    question = reply["question"].strip()
    return QAPair(question, not_found_answer(question), chunk.lang, document.id, chunk.id, "unanswerable",
                  meta={"teacher": teacher.name, "unanswerable": True})


_ENTITIES = {
    "en": "List the named things (products, people, places, organisations, policies) this text is about.\n\n{text}",
    "zh": "列出这段文字涉及的具体对象（产品、人物、地点、机构、政策）。\n\n{text}",
}
_RELATION = {
    "en": ("Using only facts stated in the text, write a short paragraph explaining how {a} and {b} relate. "
           "Keep every number and name exactly as written.\n\nText:\n{text}"),
    "zh": "只用文字中写明的事实，写一小段话说明{a}和{b}之间的关系，数字和名称必须与原文一致。\n\n文字：\n{text}",
}


def entity_passages(teacher: Teacher, chunk: SourceChunk, document: SourceDocument,
                    max_relations: int = 2) -> list[dict[str, Any]]:
    """EntiGraph-style re-expressions: relations between the chunk's entities, checked against the chunk."""
    lang = "zh" if chunk.lang == "zh" else "en"
    text = chunk.text[:MAX_CHUNK_CHARS]
    reply = _ask(teacher, _ENTITIES[lang].format(text=text),
                 _schema({"entities": {"type": "array", "minItems": 2, "maxItems": 6,
                                       "items": {"type": "string", "maxLength": 60}}}))
    present = [e.strip() for e in (reply or {}).get("entities", []) if e.strip() and normalize(e) in normalize(text)]
    records = []
    for a, b in list(combinations(dict.fromkeys(present), 2))[:max_relations]:
        written = _ask(teacher, _RELATION[lang].format(a=a, b=b, text=text),
                       _schema({"passage": {"type": "string", "maxLength": 600}}))
        passage = (written or {}).get("passage", "").strip()
        if passage and faithful(passage, text):
            records.append(text_record(passage, document_id=document.id, chunk_id=chunk.id, generator="entigraph",
                                       entities=[a, b]))
    return records


def faithful(passage: str, source: str, min_shared: float = 0.5) -> bool:
    """A re-expression adds no number or code of its own and is mostly the source's words (it may reword)."""
    return specific_terms(passage) <= specific_terms(source) and share_in_source(passage, source) >= min_shared


@dataclass
class JudgeReport:
    """What the teacher, as a judge, said of a sample of kept and of removed pairs."""

    kept_judged: int = 0
    kept_good: int = 0
    removed_judged: int = 0
    removed_good: int = 0
    dropped: int = 0  # kept pairs the judge rejected, taken out of the training set
    by_generator: dict[str, dict[str, int]] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {"kept_judged": self.kept_judged, "kept_good": self.kept_good, "removed_judged": self.removed_judged,
                "removed_good": self.removed_good, "dropped": self.dropped, "by_generator": self.by_generator}


_JUDGE = {
    "en": ("Text:\n{text}\n\nQuestion: {question}\nProposed answer: {answer}\n\nDoes the text answer the question, and "
           "is the proposed answer what the text says?"),
    "zh": ("文字：\n{text}\n\n问题：{question}\n给出的答案：{answer}\n\n"
           "这段文字能回答这个问题吗？给出的答案与文字一致吗？"),
}


def judged_good(teacher: Teacher, pair: QAPair, source: str) -> bool:
    lang = "zh" if pair.lang == "zh" else "en"
    reply = _ask(teacher, _JUDGE[lang].format(text=source[:MAX_CHUNK_CHARS], question=pair.question,
                                              answer=pair.answer),
                 _schema({"text_answers_question": {"type": "boolean"}, "answer_matches_text": {"type": "boolean"}}))
    if reply is None:
        return False
    answers, matches = bool(reply.get("text_answers_question")), bool(reply.get("answer_matches_text"))
    if pair.meta.get("unanswerable"):
        return not answers  # right when the text does not answer it
    return answers and matches


def judge_sample(teacher: Teacher, kept: list[QAPair], removed: list[QAPair], chunk_text: dict[str, str],
                 sample: int, seed: int = 0) -> tuple[list[QAPair], JudgeReport]:
    """Judge up to `sample` kept and `sample` removed pairs; drop the kept ones judged bad."""
    rng = random.Random(seed)
    report = JudgeReport()
    rejected: set[int] = set()
    for pairs, is_kept in ((kept, True), (removed, False)):
        for pair in rng.sample(pairs, min(sample, len(pairs))):
            source = chunk_text.get(pair.chunk_id, "") + "\n" + chunk_text.get(pair.meta.get("second_chunk", ""), "")
            good = judged_good(teacher, pair, source)
            row = report.by_generator.setdefault(pair.generator, {"kept_judged": 0, "kept_good": 0,
                                                                  "removed_judged": 0, "removed_good": 0})
            prefix = "kept" if is_kept else "removed"
            row[f"{prefix}_judged"] += 1
            row[f"{prefix}_good"] += good
            if is_kept:
                report.kept_judged += 1
                report.kept_good += good
                if not good:
                    rejected.add(id(pair))
            else:
                report.removed_judged += 1
                report.removed_good += good
    report.dropped = len(rejected)
    return [p for p in kept if id(p) not in rejected], report
