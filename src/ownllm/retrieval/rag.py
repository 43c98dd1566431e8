"""Evidence for retrieval-augmented answers: search, pick the evidence sentences, cite.

Small models answer far better from a few relevant sentences than from whole chunks
(measured on 12 sample-company questions with SmolLM2-135M: 5/12 facts right from the top
three sentences, 4/12 from five full chunks at six times the prompt time, 4/12 from
two-sentence windows). So the
retrieved chunks are cut into sentences (table rows count as sentences), each scored by
how many of the question's terms it shares, and the best few go into the prompt. The
citations are exactly the chunks those sentences came from, best evidence first.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Protocol

from ownllm.ingest.parsed import is_separator_row, markdown_row_cells
from ownllm.retrieval.search import SearchHit, search
from ownllm.retrieval.tokenize import tokenize
from ownllm.store.home import Home
from ownllm.text import question_lang, sentences

# E5 cosine between a question and an unrelated passage is often ~0.75; a related one ~0.85+
DENSE_CONFIDENCE = 0.82
SYSTEM_PROMPT = "Answer the question with the exact fact from the context."
# A reader that can read (Qwen2.5 0.5B and up) gets whole passages and is told how to decline: with
# three sentences picked by shared words, it answered "the range of the VM-S95" with the sentence
# about the VM-S95's price, because the range sentence says "its battery", not the code (measured).
# Only the fact, not a sentence around it: asked for "one short sentence", the 1.5B restated the question
# ("Coldplay led the halftime show of Super Bowl 50.") and declined more answerable questions
# (bench/answer_check.py: SQuAD answerable F1 0.47 -> 0.82 unchecked with the fact alone).
PASSAGE_PROMPTS = {
    "en": ("Answer the question using only the documents. Reply with only the exact fact, in as few words as "
           "possible. If the documents do not contain the answer, reply exactly: Not found in the knowledge base."),
    # already short; "only the fact, as short as possible" here made it decline far less (DRCD near misses
    # declined 0.27 -> 0.10 unchecked, measured), so it stays
    "zh": ("只根据文档回答问题，用中文简短回答，给出准确的事实。"
           "如果文档中没有答案，只回答：知识库中没有找到相关内容。"),
}


class TokenCounter(Protocol):
    def count_tokens(self, text: str) -> int: ...


@dataclass(frozen=True)
class Evidence:
    sentence: str  # what the reader is shown: a sentence, or a whole chunk for passage readers
    hit: SearchHit
    overlap: int
    quote: str | None = None  # the chunk's best sentence, cited when `sentence` is the whole chunk


def select_evidence(question: str, hits: list[SearchHit], max_sentences: int = 3,
                    engine: TokenCounter | None = None, budget_tokens: int = 1500) -> list[Evidence]:
    """The sentences sharing most terms with the question; ties go to the better-ranked chunk."""
    question_terms = set(tokenize(question))
    scored: list[tuple[float, Evidence]] = []
    for rank, hit in enumerate(hits):
        for sentence in sentences(hit.text):
            overlap = len(question_terms & set(tokenize(sentence)))
            scored.append((overlap - 0.01 * rank, Evidence(sentence, hit, overlap)))
    scored.sort(key=lambda item: -item[0])
    chosen, used = [], 0
    for _, evidence in scored[:max_sentences]:
        cost = engine.count_tokens(evidence.sentence) if engine is not None else len(evidence.sentence) // 3
        if chosen and used + cost > budget_tokens:
            break
        chosen.append(evidence)
        used += cost
    return chosen


# ASCII only: in "VM-A300的最大载重" the code is "A300", not the Chinese that follows it without a space
# A code keeps its prefix ("VP-1099", not "1099", which a price of 1,099 would match)
_SPECIFIC = re.compile(r"(?:[a-z]+-)?[a-z]*\d[a-z0-9.]*(?:-[a-z]*\d[a-z0-9.]*)*", re.IGNORECASE | re.ASCII)


def specific_terms(text: str) -> set[str]:
    """Numbers and model codes ("700", "vm-a300", "4.2.1"): a question naming one is about that thing only."""
    return {term.rstrip(".-").lower() for term in _SPECIFIC.findall(text.replace(",", ""))}


def confident(evidence: list[Evidence], hits: list[SearchHit], question: str = "") -> bool:
    """Answer only when the best evidence shares a term with the question or is semantically close, and
    every number or code the question names appears in the evidence: passages about the Aurel 300 do not
    answer a question about an "Aurel 700", and a reader shown them invents a price (measured)."""
    # a passage is about what its title and heading say too ("2025" is in the sheet's title, not its rows)
    shown = " ".join(f"{item.hit.document_title} {item.hit.heading or ''} {item.hit.readable_text}"
                     for item in evidence).replace(",", "").lower()
    if any(not re.search(rf"(?<![0-9a-z]){re.escape(term)}(?![0-9a-z])", shown) for term in specific_terms(question)):
        return False
    best_dense = max((hit.dense_score or 0.0) for hit in hits)
    return max(item.overlap for item in evidence) > 0 or best_dense >= DENSE_CONFIDENCE


def cited_chunks(evidence: list[Evidence]) -> list[dict]:
    """One citation per chunk that supplied evidence, in the order of its best sentence."""
    seen: dict[str, dict] = {}
    for item in evidence:
        if item.hit.chunk_id not in seen:
            seen[item.hit.chunk_id] = {**item.hit.citation(), "quote": item.quote or item.sentence}
    return list(seen.values())


def last_user_text(messages: list[dict[str, Any]]) -> str:
    for message in reversed(messages):
        if message.get("role") == "user":
            return message.get("content") or ""
    return ""


def _grounded(messages: list[dict[str, Any]], system: str, context: str,
              labels: tuple[str, str]) -> list[dict[str, Any]]:
    """Our instruction as the only system turn, and the context in front of the last question."""
    out = [{"role": "system", "content": system}] + [m for m in messages if m.get("role") != "system"]
    for index in range(len(out) - 1, -1, -1):
        if out[index].get("role") == "user":
            out[index] = {"role": "user", "content": f"{labels[0]}:\n{context}\n\n{labels[1]}: {out[index]['content']}"}
            break
    return out


def augment_messages(messages: list[dict[str, Any]], evidence: list[Evidence]) -> list[dict[str, Any]]:
    """The conversation with our instruction first and the evidence sentences in front of the last question."""
    context = "\n".join(f"- {item.sentence}" for item in evidence)
    return _grounded(messages, SYSTEM_PROMPT, context, ("Context", "Question"))


def tables_as_records(text: str, question: str = "") -> str:
    """Markdown tables rewritten one row per line as "column: value" pairs; other lines unchanged.

    A 1.5B reader shown a grid answered "the price of VP-2010" with a decline; a row that names its
    columns is read like a sentence. With a question, a table of more than MIN_ROWS_TO_FILTER rows
    shows only the rows naming something the question names that few rows share ("June", "VP-2010"):
    shown all twelve months as records, the same reader still gave January's return rate for June
    (the first row). A question naming no such term (the cheapest, the highest) sees every row. A
    table without a separator row (no header) is left as it is.
    """
    lines = text.split("\n")
    out: list[str] = []
    index = 0
    while index < len(lines):
        header = markdown_row_cells(lines[index])
        if header is None or index + 1 == len(lines) or not is_separator_row(lines[index + 1].strip()):
            out.append(lines[index])
            index += 1
            continue
        index += 2
        rows: list[list[str]] = []
        while index < len(lines) and (row := markdown_row_cells(lines[index])) is not None:
            rows.append(row)
            index += 1
        shown = _rows_for(question, header, rows) if question else rows
        for row in shown:
            out.append("; ".join(f"{name}: {value}" if name else value
                                 for name, value in zip(header, row, strict=False) if value))
        if len(shown) < len(rows):
            out.append(f"({len(rows) - len(shown)} more rows of this table not shown: "
                       "they do not match the question)")
    return "\n".join(out)


MIN_ROWS_TO_FILTER = 4


def _rows_for(question: str, header: list[str], rows: list[list[str]]) -> list[list[str]]:
    """The rows sharing a rare term with the question (in at most half the rows), or all rows."""
    if len(rows) < MIN_ROWS_TO_FILTER:
        return rows
    terms = set(tokenize(question)) - set(tokenize(" ".join(header)))
    row_terms = [set(tokenize(" ".join(row))) for row in rows]
    rare = {t for t in terms if 0 < sum(t in r for r in row_terms) <= len(rows) // 2}
    matched = [row for row, found in zip(rows, row_terms, strict=True) if found & rare]
    return matched or rows


def select_passages(question: str, hits: list[SearchHit], max_passages: int = 4,
                    engine: TokenCounter | None = None, budget_tokens: int = 1800) -> list[Evidence]:
    """Whole retrieved chunks in rank order, as many as fit the budget (for readers that can read)."""
    question_terms = set(tokenize(question))
    chosen: list[Evidence] = []
    used = 0
    for hit in hits[:max_passages]:
        shown = tables_as_records(hit.readable_text, question)
        cost = engine.count_tokens(shown) if engine is not None else len(shown) // 3
        if chosen and used + cost > budget_tokens:
            break
        best = max(sentences(hit.text) or [hit.text], key=lambda s: len(question_terms & set(tokenize(s))))
        chosen.append(Evidence(shown, hit, len(question_terms & set(tokenize(shown))), best))
        used += cost
    return chosen


_PASSAGE_LABELS = {"en": ("Documents", "Question"), "zh": ("文档", "问题")}


def augment_with_passages(messages: list[dict[str, Any]], evidence: list[Evidence],
                          lang: str) -> list[dict[str, Any]]:
    """Numbered documents with their titles and places, the decline rule in the question's language."""
    listing = "\n\n".join(f"[{i + 1}] {item.hit.document_title} ({item.hit.location})\n{item.sentence}"
                           for i, item in enumerate(evidence))
    labels = _PASSAGE_LABELS.get(lang, _PASSAGE_LABELS["en"])
    return _grounded(messages, PASSAGE_PROMPTS.get(lang, PASSAGE_PROMPTS["en"]), listing, labels)


def ground_in_hits(messages: list[dict[str, Any]], hits: list[SearchHit], *, passages: bool,
                   engine: TokenCounter | None = None) -> tuple[list[dict[str, Any]], list[Evidence]]:
    """The last question grounded in `hits` as a reader is served it: whole passages with the decline rule
    (`passages`), else the best sentences. Synthesis builds its grounded training records with it too."""
    question = last_user_text(messages)
    if passages:
        evidence = select_passages(question, hits, engine=engine)
        return augment_with_passages(messages, evidence, question_lang(question)), evidence
    evidence = select_evidence(question, hits, engine=engine)
    return augment_messages(messages, evidence), evidence


def retrieve_for_chat(home: Home, tenant_id: str, messages: list[dict[str, Any]], engine: TokenCounter, *,
                      corpus: str | int = "latest", top_k: int = 5,
                      passages: bool = False) -> tuple[list[dict[str, Any]], list[Evidence]]:
    """Search with the last user turn; returns (messages to send to the model, evidence shown to it).

    `passages`: the reader gets whole chunks and a decline rule (strong readers) instead of the few
    best sentences (what a 135M model reads best).
    """
    question = last_user_text(messages)
    hits = search(home, tenant_id, question, corpus=corpus, top_k=top_k)
    if not hits:
        return messages, []
    grounded, evidence = ground_in_hits(messages, hits, passages=passages, engine=engine)
    if not evidence or not confident(evidence, hits, question):
        return messages, []
    return grounded, evidence
