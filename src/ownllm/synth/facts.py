"""Extractive facts: questions whose answer is a span of the chunk itself.

A 135M-parameter teacher writes poor questions, so this generator needs no model at all:
it finds the key facts in each sentence (prices, dates, phone numbers, clock times, durations,
measured quantities, model codes), names the attribute from the words just before the fact, and asks for it.
Every answer is a verbatim span of the source, so the data is correct by construction.
Several phrasings per fact: a natural question where the attribute can be named (in Chinese also the
clause itself asked in place), and a fill-in-the-blank form that always works; all teach the same association. Markdown
tables (spreadsheets, slides, and scans whose tables OCR rebuilt) are read by cell:
the row's first cell is the subject and the column header the attribute, which a
sentence reader would get wrong ("How much does price_list cost?"). Values with no shape come from
`attributes.py` (a label, a copula, a role) and `kinds.py` (the words before a noun: "hydraulic disc brakes").
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from ownllm.ingest.parsed import is_separator_row, markdown_row_cells
from ownllm.retrieval.rag import sentences
from ownllm.synth.attributes import carried_table_header, clause_value_pairs, label_line_pairs
from ownllm.synth.choices import colour_pairs, counted_list_pairs
from ownllm.synth.kinds import kind_pairs
from ownllm.synth.records import QAPair
from ownllm.synth.source import SourceChunk, SourceDocument
from ownllm.synth.subjects import readable_title, without_document_type

_MONTHS = "January|February|March|April|May|June|July|August|September|October|November|December"
_NUMBER = r"\d[\d,]*(?:\.\d+)?"
# a number's order of magnitude written as a word: "14.5 million EUR", "1,200万元", "2.3亿元", "12万辆"
_SCALE_EN = r"(?:\s?(?:thousand|million|billion|bn|k|m)\b)?"
_SCALE_ZH = r"(?:万|亿|千)?"
# counted things in English: "8 technicians", "4,355 units", "6 service bays" (a plural noun, one word before it
# allowed unless that word is the plural: "100 sequences contains"); words that merely end in s are no plurals
_NOT_PLURAL = {"is", "was", "has", "its", "this", "thus", "plus", "less", "across", "always", "perhaps", "unless",
               "does", "goes", "as", "us", "yes", "cs", "vs", "minus", "bonus", "status", "campus", "versus",
               # verbs after a number ("Figure 4-69 shows", "lines 4-5 becomes")
               "shows", "becomes", "contains", "includes", "remains", "means", "seems", "requires", "gives", "takes",
               "makes", "uses", "needs", "provides", "allows", "represents", "describes", "lists"}
_SMALL_WORDS = r"(?:of|the|and|or|to|in|on|at|for|by|a|an|per|from|with|its|our|their|more|than|each|every)"
_COUNTED_EN = re.compile(
    r"(?<![\w.,-])\d+(?:,\d{3})*(?:\.\d+)?(?:\s(?:thousand|million|billion))?"
    rf"\s(?:(?!{_SMALL_WORDS}\b)[a-z]*[a-rt-z]\s)?(?:[a-z]{{3,}}s|people|staff|children|men|women)\b")
# Chinese measure words after a number ("44起", "10名", "3个", "5速"): what is counted is named by the counter
_ZH_COUNTERS = "起|名|位|条|款|种|座|间|项|套|件|速|个|台|辆|家|人|次|张|份|所|批|期|届|篇|页|层|栋|户|箱|包|瓶"
# a product or part code names a subject ("VM-A300"); a rating or standard ("IPX5") is only a value
CODE_PATTERN = re.compile(r"(?<![A-Za-z0-9])[A-Z]{2,}-[A-Z0-9](?:[A-Z0-9-]*[A-Z0-9])?(?![A-Za-z0-9])")
_RATING_PATTERN = re.compile(r"(?<![A-Za-z0-9])[A-Z]{2,}\d[A-Z0-9]*(?![A-Za-z0-9])")
FACT_PATTERNS: list[tuple[str, re.Pattern[str]]] = [
    ("email", re.compile(r"(?<![\w.+-])[\w.+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+", re.ASCII)),
    ("date", re.compile(rf"\b\d{{1,2}} (?:{_MONTHS}) \d{{4}}\b|\b(?:{_MONTHS}) \d{{1,2}},? \d{{4}}\b"
                        rf"|\b(?:{_MONTHS}) \d{{4}}\b"
                        r"|\b\d{4}-\d{2}-\d{2}\b|\d{4}年\d{1,2}月(?:\d{1,2}日)?|(?<!\d)(?:19|20)\d{2}年(?:度|[初底末中])?"
                        # a bare year is a date only where the words say so ("partner since 2020", "founded in 2017")
                        r"|(?:(?<=\b[Ss]ince )|(?<=[Ff]ounded in )|(?<=[Ee]stablished in )|(?<=[Ii]ncorporated in ))"
                        r"(?:19|20)\d{2}\b")),
    ("money", re.compile(rf"[$€£¥]\s?{_NUMBER}{_SCALE_EN}|{_NUMBER}{_SCALE_EN}\s?(?:USD|EUR|CNY|RMB|GBP)\b"
                         rf"|{_NUMBER}\s?{_SCALE_ZH}(?:美元|欧元|元)")),
    # international numbers ("+45 33 555 0129"), Chinese landlines ("0512-6655-0101") and hotlines ("400-820-6617")
    ("phone", re.compile(r"\+\d{1,3}(?:[ -]\d{1,4}){2,5}(?![ -]?\d)|(?<![\d-])(?:0[1-9]\d{1,2}-\d{4}-?\d{4}"
                         r"|[48]00-\d{3}-\d{4})(?![\d-])")),
    # software versions named as such ("firmware 4.2.1", "v2.0.1"); a bare "2.1.5" is a section number
    ("version", re.compile(r"(?:(?<=version )|(?<=release )|(?<=firmware )|(?<=software )|(?<=update )|(?<=\bv)"
                           r"|(?<=版本)|(?<=固件))\d{1,3}\.\d{1,3}\.\d{1,3}(?![\d.])", re.IGNORECASE)),
    # opening hours and start times: "07:30", "17:00"; a one-digit hour only on the hour or half hour ("9:00"),
    # so ratios, verses and scores ("1:50", "3:16", "3:10") are not times
    # (ASCII word characters only: in "9:00至17:00" the 至 starts the next time, it is not part of a word)
    ("time", re.compile(r"(?<![\w.:])(?:[01]\d|2[0-3]):[0-5]\d(?![\d:])|(?<![\w.:])\d:[03]0(?![\d:])", re.ASCII)),
    # a hyphen may join a number to its unit ("a 5-year warranty", "a 3.5-inch display"); an age is no duration
    # ("17-year-old", "9-year olds")
    ("duration", re.compile(rf"{_NUMBER}[\s-]?(?:(?:working |business |calendar )?days?|years?|months?|weeks?|hours?"
                            r"|min(?:ute)?s?|seconds?|secs?|个月|年|周|天|小时|分钟|秒)(?![a-z-])(?! olds?\b)")),
    # sizes ("28 x 1.6 inch", "20 x 1.95英寸") before their single numbers
    ("quantity", re.compile(rf"{_NUMBER}\s?[x×]\s?{_NUMBER}(?:\s?(?:inch(?:es)?|mm|cm|m|英寸|毫米|厘米))?(?![A-Za-z])"
                            rf"|{_NUMBER}(?:\s?|-(?=inch|mm|cm|km|kg|lux|kWh|Wh))(?:%|km/h|kWh|Wh|km|kg|mm|cm|W|V|A|GB|TB|lux|dB|Nm|mAh|Hz|inch(?:es)?"
                            r"|公里/小时|公里|千克|公斤|英寸|勒克斯|毫米|厘米|瓦)(?![A-Za-z])"
                            # the counted thing after the counter where a clause ends after it ("16名技师，"), as
                            # the English count keeps its noun ("16 technicians")
                            rf"|{_NUMBER}{_SCALE_ZH}(?:{_ZH_COUNTERS})(?:[\u4e00-\u9fff]{{1,4}}(?=[，,。；;！？、]|$))?")),
    ("code", CODE_PATTERN),
    ("code", _RATING_PATTERN),
    ("count", _COUNTED_EN),
]
# a colon ends a clause, except inside a clock time ("07:00")
# (nor does the comma of "1,860")
_CLAUSE_SPLIT = re.compile(r"(?<!\d),|,(?!\d{3}(?!\d))|[;，；、]|(?<!\d)[:：]|[:：](?!\d)|\band\b|\bwhile\b|\bbut\b")
_EN_TRAILING = {"of", "up", "to", "is", "are", "was", "were", "at", "for", "about", "around", "by", "from", "with",
                "a", "an", "the", "on", "in", "be", "costs", "cost", "only", "just", "over", "under", "than",
                "within", "after", "has", "have", "its", "their", "it", "our", "least", "most", "maximum", "every",
                "each", "per"}
_VERB_LIKE = {"held", "sold", "made", "built", "paid", "kept", "set", "run", "given", "taken", "done",
              "may", "must", "can", "will", "shall", "should", "would", "could", "reach", "reaches", "get", "gets",
              "takes", "receive", "receives", "is", "are", "was", "were", "be"}
# words that qualify a quantity without naming what it is ("free for the first 3 months")
_QUALIFIERS = {"first", "second", "third", "last", "next", "previous", "following", "new", "same", "other", "extra",
               "additional", "further", "total", "full", "whole", "more", "less", "fewer"}
_ZH_TRAILING = "为是达约：:至于在共仅了的"
_KIND_QUESTION_EN = {
    "money": "How much does {subject} cost?",
    "date": "When did this happen for {subject}: {blank}?",
}
_UNIT_QUESTION_EN = {"kg": "How heavy is {subject}?", "km/h": "What is the top speed of {subject}?"}


_RANGE_KINDS = {"time", "date"}
_RANGE_JOIN = re.compile(r"\s?(?:to|until|till|through|[-–—~～]|至|到)\s?")
_CHANGE_BEFORE = re.compile(r"\b(?:moved?|moving|changed?|changing|shift(?:s|ed)?|postponed?|brought|extended|"
                            r"rescheduled|delayed|updated|adjusted|reduced|raised|lowered|cut|rose|risen|increased?|"
                            r"fell|fallen|decreased?|went|go(?:es)?) (?:(?!(?:and|but|or|is|are)\b)\w+ ){0,3}from $")


@dataclass(frozen=True)
class FactSpan:
    kind: str
    text: str
    start: int
    end: int
    period: bool = False  # two times or dates joined into one ("08:30 to 17:30"), see _join_ranges


def find_facts(sentence: str) -> list[FactSpan]:
    """Non-overlapping fact spans, earlier patterns (dates, money) winning over later ones."""
    taken: list[FactSpan] = []
    for kind, pattern in FACT_PATTERNS:
        for match in pattern.finditer(sentence):
            if any(match.start() < t.end and t.start < match.end() for t in taken):
                continue
            if kind == "phone" and sum(c.isdigit() for c in match.group()) < 8:
                continue  # "+20 30 40" is a list of numbers, not a phone number
            if kind == "count" and (match.group().split()[-1] in _NOT_PLURAL or match.group().split()[0] == "1"):
                continue  # "in 2025 this", "390 is": a number before a word ending in s counts nothing; "1 cases"
            taken.append(FactSpan(kind, match.group().strip(), match.start(), match.end()))
    return _join_ranges(sentence, sorted(taken, key=lambda f: f.start))


def _join_ranges(sentence: str, facts: list[FactSpan]) -> list[FactSpan]:
    """Two clock times or dates joined by "to", a dash or 至 are one fact, a period ("open from 08:30 to 17:30"):
    asked apart, neither half answers "what are the opening hours?". A change ("moved from 09:00 to 10:00")
    stays two facts, the old value and the new; a Chinese change says 改为, so "从9:00到18:00" is a period. Three or
    more joined alike are a list ("08:00 - 09:00 - 10:00"), each its own fact."""

    def joins(first: FactSpan, second: FactSpan) -> bool:
        between = sentence[first.end:second.start]
        return (first.kind == second.kind and first.kind in _RANGE_KINDS
                and bool(_RANGE_JOIN.fullmatch(between)
                         or (between == " and " and sentence[:first.start].endswith("between "))))

    runs: list[list[FactSpan]] = []
    for fact in facts:
        if runs and joins(runs[-1][-1], fact):
            runs[-1].append(fact)
        else:
            runs.append([fact])
    joined: list[FactSpan] = []
    for run in runs:
        if len(run) == 2 and not _CHANGE_BEFORE.search(sentence[:run[0].start]):
            joined.append(FactSpan(run[0].kind, sentence[run[0].start:run[1].end], run[0].start, run[1].end, True))
        else:
            joined += run
    return joined


def _clause(sentence: str, fact: FactSpan) -> tuple[str, str]:
    """The clause holding the fact, split into the text before it and the text after it."""
    starts = [0] + [m.end() for m in _CLAUSE_SPLIT.finditer(sentence) if m.end() <= fact.start]
    ends = [m.start() for m in _CLAUSE_SPLIT.finditer(sentence) if m.start() >= fact.end] + [len(sentence)]
    return sentence[max(starts):fact.start].strip(), sentence[fact.end:min(ends)].strip(" .。")


def _attribute_en(before: str) -> str:
    words = re.findall(r"[A-Za-z][A-Za-z/-]*", before)
    while words and words[-1].lower() in _EN_TRAILING:
        words.pop()
    articles = [i for i, w in enumerate(words) if w.lower() in ("a", "an", "the", "its", "their", "our")]
    tail = words[articles[-1] + 1:] if articles else words
    tail = tail[-3:]
    while tail and tail[0].lower() in _EN_TRAILING:
        tail.pop(0)
    return " ".join(tail).lower()


def _attribute_zh(before: str) -> str:
    text = before.strip()
    while text and text[-1] in _ZH_TRAILING:
        text = text[:-1]
    # an attribute is named by words, never by the digits of a preceding fact ("9:00至17:00" is not "00")
    match = re.search(r"[\u4e00-\u9fffA-Za-z][\u4e00-\u9fffA-Za-z0-9]{1,11}$", text)
    return match.group() if match else ""


def _subject(chunk: SourceChunk, document: SourceDocument, sentence: str) -> str:
    codes = CODE_PATTERN.findall(sentence)
    heading = (chunk.heading or "").strip()
    if heading and (not codes or any(code in heading for code in codes)):
        return without_document_type(heading)
    return codes[0] if codes else without_document_type(heading or readable_title(document))


def _noun_like(attribute: str) -> bool:
    """A phrase that can follow "What is the": no participles or verbs, which make broken questions."""
    words = attribute.split()
    return (bool(words) and not any(w.endswith(("ed", "ing")) or w in _VERB_LIKE for w in words)
            and not all(w in _QUALIFIERS for w in words))


def _questions_en(subject: str, fact: FactSpan, before: str, after: str) -> list[str]:
    blank = f"{before} ___ {after}".strip()
    questions = [f'In "{subject}", what fills the blank: "{blank}"?']
    unit = fact.text.split()[-1] if " " in fact.text else ""
    attribute = _attribute_en(before)
    if fact.kind == "money":
        questions.append(_KIND_QUESTION_EN["money"].format(subject=subject))
    elif fact.kind == "phone":
        questions.append(f"What is the phone number of {subject}?")
    elif fact.kind == "email":
        questions.append(f"What is the email address of {subject}?")
    elif fact.kind == "count":
        # "has 6 service bays", "employs 8 technicians": what the subject has; "sold 390 vehicles" is no possession
        if not before or re.search(r"\b(?:has|have|had|with|employs?|of)$", before):
            questions.append(f"How many {fact.text.split(' ', 1)[1]} does {subject} have?")
    elif unit in _UNIT_QUESTION_EN and (not attribute or re.fullmatch(
            r"(?:\w+ )?(?:weighs?|weight|(?:top |maximum |max )?speed)", attribute)):
        # "How heavy is X?" only where the text names no other attribute ("maximum load ... 130 kg")
        questions.append(_UNIT_QUESTION_EN[unit].format(subject=subject))
    elif fact.kind == "date" and attribute.endswith("ed"):
        # the participle alone: "The company was founded in 2017" asks "When was X founded?"
        questions.append(f"When was {subject} {attribute.split()[-1]}?")
    elif fact.kind == "duration" and _noun_like(attribute):
        questions.append(f"How long is the {attribute} of {subject}?")
    elif fact.kind in ("quantity", "code") and _noun_like(attribute):
        questions.append(f"What is the {attribute} of {subject}?")
    return questions


_CJK = re.compile(r"[\u4e00-\u9fff]")
_ZH_WH = {"date": "什么时候", "duration": "多长时间", "code": "什么", "version": "什么", "time": "几点",
          "money": "多少钱"}


def _wh_zh(fact: FactSpan) -> str:
    """The question word standing where the fact stood; a measure word stays ("1,860辆" -> "多少辆")."""
    if fact.kind in _ZH_WH:
        return _ZH_WH[fact.kind]
    unit = re.search(r"[\u4e00-\u9fff]+$", fact.text)
    return "多少" + (unit.group() if unit else "")


def _questions_zh(subject: str, fact: FactSpan, before: str, after: str) -> list[str]:
    """Chinese asks in place: the fact's clause with a question word where the fact was ("充满电需要3.5小时"
    -> "充满电需要多长时间？"), which stays grammatical whatever the clause's verbs. The "X的Y是多少" form is
    added only where the words before the fact end at a copula ("整车重量为"), the fact ends the clause and
    the clause does not already name the subject.
    """
    blank = f"{before}____{after}"
    questions = [f"在“{subject}”中，“{blank}”的空白处是什么？"]
    if fact.kind == "phone":
        return [*questions, f"{subject}的电话是多少？"]
    if fact.kind == "email":
        return [*questions, f"{subject}的邮箱是什么？"]
    wh = _wh_zh(fact)
    if fact.period:
        before = before.removesuffix("从")  # "营业时间从9:00到18:00" asks "营业时间是几点", not "从几点"
    lead = before[:-1] + "是" if before.endswith("为") and wh.startswith("什么") else before  # not 为什么, "why"
    clause = f"{lead}{wh}{after}".strip(" ，,。")
    named = False
    if before and len(clause) >= 4:
        named = subject in clause or any(code in clause for code in CODE_PATTERN.findall(subject))
        questions.append(f"{clause}？" if named else f"关于{subject}，{clause}？")
    attribute = _attribute_zh(before)
    attribute = attribute.rsplit("的", 1)[-1]
    copula = before.rstrip()[-1:] in ("为", "是")
    if attribute and attribute not in subject and copula and not after and not named:
        asks = {"date": "是什么时候", "duration": "是多长时间", "code": "是什么",
                "time": "是几点"}.get(fact.kind, "是多少")
        questions.append(f"{subject}的{attribute}{asks}？")
    return questions


def table_rows(text: str) -> list[tuple[list[str], list[str], str]]:
    """(header, row, row line) for each body row of each Markdown table; a blank first cell (a merged
    cell spanning rows) takes the value above it."""
    lines = text.splitlines()
    found = []
    for index, line in enumerate(lines[:-1]):
        header = markdown_row_cells(line)
        if header is None or not is_separator_row(lines[index + 1].strip()):
            continue
        above = ""
        for row_line in lines[index + 2:]:
            row = markdown_row_cells(row_line)
            if row is None:
                break
            above = row[0] or above
            found.append((header, [above, *row[1:]], row_line))
    return found


def _table_questions(subject: str, row_name: str, column: str, lang: str, money: bool) -> list[str]:
    """The natural question and the fill-in-the-blank twin, as for facts in sentences; a price is also asked
    the way people ask for one."""
    if lang == "zh":
        asked = [f"{subject}中，{row_name}的{column}是多少？",
                 f"在“{subject}”中，“{row_name}的{column}：____”的空白处是什么？"]
        return asked + ([f"{row_name}多少钱？"] if money else [])
    if column[:1].isupper() and column[1:].islower():
        column = column.lower()  # "Price" reads as "the price of", an acronym stays as it is
    return [f'What is the {column} of {row_name} in "{subject}"?',
            f'In "{subject}", what fills the blank: "{row_name} | {column}: ___"?'] + (
        [f"How much does {row_name} cost?"] if money else [])


def _row_name(row: list[str]) -> str:
    """A row is named by its first cell; a code there ("VP-1025") with a name beside it ("phone holder") is
    named by both, as people name the part: "phone holder (VP-1025)"."""
    first = row[0]
    if len(row) > 2 and CODE_PATTERN.fullmatch(first.strip()) and row[1] and not find_facts(row[1]):
        return f"{row[1]}（{first}）" if _CJK.search(row[1]) else f"{row[1]} ({first})"
    return first


def table_pairs(chunk: SourceChunk, document: SourceDocument) -> list[QAPair]:
    pairs = []
    subject = (chunk.heading or document.title).strip()
    for header, row, line in table_rows(carried_table_header(chunk, document) + chunk.text):
        name = _row_name(row)
        for column, cell in zip(header[1:], row[1:], strict=False):
            facts = find_facts(cell) if column and row[0] and cell else []
            if not facts:
                continue
            money = len(facts) == 1 and facts[0].kind == "money"
            for question in _table_questions(subject, name, column, chunk.lang, money):
                pairs.append(QAPair(question, cell, chunk.lang, document.id, chunk.id, "facts", evidence=line,
                                    meta={"kind": "table"}))
    return pairs


def fact_pairs(chunk: SourceChunk, document: SourceDocument,
               generic_headings: frozenset[str] = frozenset()) -> list[QAPair]:
    """Every fact of the chunk, each asked in several phrasings; `generic_headings` (see `shared_headings`)
    are not used as the subject."""
    if chunk.heading and chunk.heading.strip() in generic_headings:
        chunk = replace(chunk, heading=None)
    pairs = table_pairs(chunk, document)
    labelled, label_lines = label_line_pairs(chunk, document)
    pairs += labelled
    prose = "\n".join(line for line in chunk.text.splitlines()
                      if not line.lstrip().startswith("|") and line.strip() not in label_lines)
    for sentence in sentences(prose):
        subject = _subject(chunk, document, sentence)
        pairs += clause_value_pairs(sentence, subject, chunk, document)
        if chunk.lang == "zh" and _CJK.search(sentence):
            pairs += counted_list_pairs(sentence, subject, chunk, document)
        else:
            pairs += kind_pairs(sentence, subject, chunk, document) + colour_pairs(sentence, subject, chunk, document)
        for fact in find_facts(sentence):
            before, after = _clause(sentence, fact)
            if fact.kind == "code" and not before:
                continue  # a code that starts its clause names the subject; it is not the answer
            if fact.kind == "code" and fact.text in subject:
                continue
            # a Chinese chunk may quote an English sentence: each is asked in its own language
            make = _questions_zh if chunk.lang == "zh" and _CJK.search(sentence) else _questions_en
            lang = "en" if chunk.lang == "zh" and make is _questions_en else chunk.lang
            for question in make(subject, fact, before, after):
                pairs.append(QAPair(question, fact.text, lang, document.id, chunk.id, "facts",
                                    evidence=sentence, meta={"kind": fact.kind}))
    return pairs
