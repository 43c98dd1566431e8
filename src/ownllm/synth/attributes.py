"""Facts named by the text itself: a labelled line ("Budget: 1.9 million EUR", "预算：480万元"), a Chinese
attribute clause ("车架材料为镁合金") and a person named after "by" or "is" ("led by Hana Sorensen").

`facts.py` finds values by their shape (a price, a date); many facts a company asks about have no shape: a
material, a manager's name, a project's team size written as a label. Here the words around the value name
its attribute, so the question can ask for it by name. Every answer is a verbatim span of the chunk.
"""

from __future__ import annotations

import re

from ownllm.ingest.parsed import is_separator_row
from ownllm.synth.records import QAPair
from ownllm.synth.source import SourceChunk, SourceDocument
from ownllm.synth.subjects import readable_title, without_document_type

# "Budget: 1.9 million EUR", "- 团队规模：14人": a short label, a colon, a short value, alone on a line
_LABEL_LINE = re.compile(r"^\s*(?:[-*•·]\s*)?(?P<label>[^\n:：|#]{1,30}?)\s*[:：]\s*(?P<value>[^\n]{1,80}?)\s*$")
_MAX_VALUE_UNITS = {"en": 8, "zh": 24}
# a message's header fields name no attribute ("What is the from of …?"): they ask who sent it, to whom, when
_MESSAGE_HEADERS = {"from": "Who sent {}?", "sender": "Who sent {}?", "to": "Who was {} sent to?",
                    "recipient": "Who was {} sent to?", "sent": "When was {} sent?"}
_NOT_ASKED_HEADERS = {"cc", "bcc", "reply-to", "subject", "re"}
# a clause "ATTRIBUTE为VALUE": short on both sides, the attribute ending in no word that makes 为 a verb part
# ("成为" become, "认为" think, "作为" as, "因为" because, "行为" behaviour)
# (为 only: 是 in running prose joins clauses far more often than it names an attribute)
_ZH_ATTRIBUTE_CLAUSE = re.compile(r"^(?P<attribute>[\u4e00-\u9fffA-Za-z0-9]{2,10}?)(?P<copula>为)"
                                  r"(?P<value>[^，,；;。！？]{1,20})$")
_ZH_NOT_COPULA = set("成认作因行称视更改分定以最即不但就还也都正只总若于")
_ZH_CLAUSES = re.compile(r"[，,；;。！？]")
# two or three capitalised words, optionally with a lower-case particle ("Sanne de Vries")
_CAPITALISED = r"[A-Z][a-z]+(?:-[A-Z][a-z]+)?"
_NAME = rf"{_CAPITALISED}(?: (?:de|van|von|der|da|di|le|la|del|dos))?(?: {_CAPITALISED}){{1,2}}"
_ROLES = r"contact|manager|director|head|lead|leader|owner|officer|chair"
_NAMED_BY = re.compile(rf"\b(?P<before>(?:led|run|managed|headed|chaired|signed|owned|founded|approved|written|"
                       rf"presented|hosted) by|(?:[a-z]+ )?(?:{_ROLES})(?: person)? is)"
                       rf"(?: [a-z]+ [a-z]+| [a-z]+)? (?P<name>{_NAME})\b")
# where a thing is ("is located at Keileweg 18, 3029 BS Rotterdam"): a place is named, so it starts with a capital
# or a number, and runs to the end of the sentence ("St. Louis" and "4.2" do not end it) or to the next clause
# ("… and employs 14 technicians"; "Bosnia and Herzegovina" is one place)
_LOCATED = re.compile(r"\b(?:is|are|was|were) (?:located|based|situated|headquartered) (?:at|in) "
                      r"(?P<value>[A-Z0-9][^;!?]{1,79}?)(?=,?\s*(?:[;!?]|(?<!\b[A-Z])(?<!\bSt)\.(?:\s|$)|$"
                      r"| and (?=[a-z])| but |, (?:which|where|with)\b))")
# what a part is made of ("The frame is made of steel"): the material is a short phrase ending the clause
# ("made from" is left out: "the payment is made from the company account" names no material)
_MADE_OF = re.compile(r"\b(?:[Tt]he|[Ii]ts|[Tt]heir|[Oo]ur) (?P<attribute>[a-z]+(?: [a-z]+)?) (?P<verb>is|are) made "
                      r"of (?P<value>[A-Za-z0-9][\w -]{0,39}?)(?=\s*(?:[,;.]|$| and | with ))")


def _units(text: str, lang: str) -> int:
    return len(re.findall(r"[\u4e00-\u9fff]", text)) if lang == "zh" else len(text.split())


def _subjects(chunk: SourceChunk, document: SourceDocument) -> list[str]:
    """Whom a labelled line is about: the section's heading and, where it does not name it, the document's
    title ("预算与计划" is a slide of "星河项目"); each gives the question another phrasing."""
    heading = (chunk.heading or "").strip()
    title = without_document_type(readable_title(document))
    subjects = [s for s in (heading, title) if s]
    if len(subjects) == 2 and (subjects[1] in subjects[0] or subjects[0] in subjects[1]):
        subjects = subjects[:1]
    return subjects or [document.name]


def _question_word_zh(value: str) -> str:
    """What a Chinese question asks for a value: when (a date), how many (a number) or what."""
    if re.search(r"\d{4}年|\d月", value):
        return "什么时候"
    return "多少" if re.match(r"\d", value) else "什么"


def label_line_pairs(chunk: SourceChunk, document: SourceDocument) -> tuple[list[QAPair], set[str]]:
    """Pairs for each labelled line, and the lines used (the sentence reader skips them: cut at the colon, they
    would give a blank with no words around it)."""
    pairs: list[QAPair] = []
    used: set[str] = set()
    subjects = _subjects(chunk, document)
    for line in chunk.text.splitlines():
        match = _LABEL_LINE.match(line)
        if match is None or line.lstrip().startswith("|"):
            continue
        label, value = match.group("label").strip(), match.group("value").strip(" .。;；")
        zh = bool(re.search(r"[\u4e00-\u9fff]", label))
        lang = "zh" if zh else "en"
        if (not value or re.search(r"^\d|\d$", label) or re.fullmatch(r"\d[\d:]*", value)
                or value.startswith(("//", '"', "“", "'"))  # a URL cut at its scheme's colon, a quotation
                or _units(label, lang) > (10 if zh else 3) or _units(value, lang) > _MAX_VALUE_UNITS[lang]
                or re.search(r"[.!?。！？]\s", value) or (lang == "en" and not re.search(r"[A-Za-z]", label))):
            continue  # a clock time, a sentence after a colon, or a label that is itself a sentence
        used.add(line.strip())
        if re.search(r"\[[A-Z_]+\]", value) or any(value in s for s in subjects) or label.lower() in _NOT_ASKED_HEADERS:
            continue  # a redacted value ("[EMAIL]"), a line that only names the subject ("Dealer profile: X"), a Cc
        name = label.lower() if label[:1].isupper() and label[1:].islower() else label
        header = _MESSAGE_HEADERS.get(label.lower())
        for subject in subjects:
            if zh:
                questions = [f"{subject}的{label}是{_question_word_zh(value)}？",
                             f"在“{subject}”中，“{label}：____”的空白处是什么？"]
            else:
                questions = [header.format(subject) if header else f"What is the {name} of {subject}?",
                             f'In "{subject}", what fills the blank: "{label}: ___"?']
            pairs += [QAPair(q, value, lang, document.id, chunk.id, "facts", evidence=line.strip(),
                             meta={"kind": "label"}) for q in questions]
    return pairs, used


def clause_value_pairs(sentence: str, subject: str, chunk: SourceChunk, document: SourceDocument) -> list[QAPair]:
    """Chinese attribute clauses ("车架材料为镁合金"), English places ("is located at …"), materials ("the frame
    is made of steel") and people named by their role ("led by Hana Sorensen"): values no pattern of shape finds."""
    pairs: list[QAPair] = []
    for clause in _ZH_CLAUSES.split(sentence):
        match = _ZH_ATTRIBUTE_CLAUSE.match(clause.strip())
        if match is None or match.group("attribute")[-1] in _ZH_NOT_COPULA or not re.search(r"[\u4e00-\u9fff]",
                                                                                               clause):
            continue
        attribute, value = match.group("attribute"), match.group("value").strip()
        if attribute.startswith(subject) or value.startswith(("多少", "什么")):
            continue
        wh = "谁" if re.search(r"人$|者$|负责|经理|主管|总监|联系", attribute) else _question_word_zh(value)
        blank = f"{attribute}{match.group('copula')}____"
        for question in (f"{subject}的{attribute}是{wh}？", f"在“{subject}”中，“{blank}”的空白处是什么？"):
            pairs.append(QAPair(question, value, "zh", document.id, chunk.id, "facts", evidence=sentence,
                                meta={"kind": "attribute"}))
    for match in _LOCATED.finditer(sentence):
        if match.group("value").endswith("."):
            continue  # the sentence was cut after an abbreviation ("located in St.")
        before = " ".join(sentence[:match.start("value")].split()[-8:])
        for asked in (f"Where is {subject} located?", f'In "{subject}", what fills the blank: "{before} ___"?'):
            pairs.append(QAPair(asked, match.group("value"), "en", document.id, chunk.id, "facts", evidence=sentence,
                                meta={"kind": "place"}))
    for match in _MADE_OF.finditer(sentence):
        before = sentence[match.start():match.start("value")].strip()
        for asked in (f"What {match.group('verb')} the {match.group('attribute')} of {subject} made of?",
                      f'In "{subject}", what fills the blank: "{before} ___"?'):
            pairs.append(QAPair(asked, match.group("value"), "en", document.id, chunk.id, "facts", evidence=sentence,
                                meta={"kind": "material"}))
    for match in _NAMED_BY.finditer(sentence):
        before = sentence[:match.start("name")].strip()
        role = match.group("before")
        if role.endswith(" is"):  # "Its account contact is ..." -> "Who is the account contact of ...?"
            question = f"Who is the {role.removesuffix(' is').removesuffix(' person')} of {subject}?"
        else:  # "It is led by ..." -> "Who is Project Orbit led by?"
            question = f"Who is {subject} {role}?"
        for asked in (question, f'In "{subject}", what fills the blank: "{before} ___"?'):
            pairs.append(QAPair(asked, match.group("name"), "en", document.id, chunk.id, "facts", evidence=sentence,
                                meta={"kind": "name"}))
    return pairs


def carried_table_header(chunk: SourceChunk, document: SourceDocument) -> str:
    """A table the chunker split keeps its header only in its first chunk: a chunk that starts with body rows
    gets the header (and separator) of the last table in the chunk before it, so its cells can be named."""
    lines = chunk.text.lstrip().splitlines()
    if not lines or not lines[0].startswith("|") or (len(lines) > 1 and is_separator_row(lines[1].strip())):
        return ""
    index = next((i for i, c in enumerate(document.chunks) if c.id == chunk.id), 0)
    for previous in reversed(document.chunks[:index]):
        before = previous.text.splitlines()
        for i in range(len(before) - 2, -1, -1):
            if before[i].lstrip().startswith("|") and is_separator_row(before[i + 1].strip()):
                return before[i] + "\n" + before[i + 1] + "\n"
        if not previous.text.lstrip().startswith("|"):
            break  # the table started in that chunk without a header: nothing to carry
    return ""
