"""The options a thing comes in: "It comes in white and graphite", "VM-C120提供信号橙和黑色两种颜色".

A product's colours (or sizes, models) are a list after a verb, with no number, label or copula for `facts.py`
or `attributes.py` to find, and no head noun after them for `kinds.py`. Each language marks such a list its own
way, and each mark is checked before anything is asked:
- English names no noun ("comes in white and graphite"), so a list is read only when every item names a colour:
  colour words are a closed, general vocabulary, while "comes in three sizes" or "is available in English and
  French" could not be asked about without knowing what the items are.
- Chinese counts the list and names the noun ("信号橙和黑色两种颜色"), so any noun is read, and the list must hold
  as many items as the number says.
"""

from __future__ import annotations

import re

from ownllm.synth.kinds import named_owner
from ownllm.synth.records import QAPair
from ownllm.synth.source import SourceChunk, SourceDocument

# a verb that offers options, with who offers them before it ("The VM-S80 comes in", "It is available in")
_OFFERED_IN = re.compile(r"(?:(?P<owner>(?<![\w'’])[A-Za-z][\w-]*(?: [A-Za-z][\w-]*)?) )?"
                         r"(?P<verb>comes|come|(?:is|are) (?:available|offered|sold|supplied))\s+in\s+")
_CLAUSE_END = re.compile(r"[.;!?]|$")
_LIST_SEPARATOR = re.compile(r",\s*(?:and|or)\s+|,\s*|\s+(?:and|or)\s+")
# general colour names, plain and as products name them ("graphite", "sand"); an item names a colour when one of
# its words is here ("slate grey", "signal orange")
COLOUR_WORDS = frozenset({
    "black", "white", "grey", "gray", "silver", "gold", "red", "blue", "green", "yellow", "orange", "purple",
    "pink", "brown", "beige", "cream", "ivory", "navy", "teal", "turquoise", "cyan", "magenta", "violet", "lilac",
    "lavender", "indigo", "maroon", "burgundy", "crimson", "scarlet", "coral", "olive", "khaki", "tan", "bronze",
    "copper", "graphite", "charcoal", "anthracite", "champagne", "sand", "taupe", "mint", "lime", "emerald", "jade",
    "amber", "ochre", "mustard", "aqua", "azure", "cobalt", "ruby", "rose", "peach", "salmon", "plum", "chrome",
    "titanium", "pearl", "slate"})
_ITEM = re.compile(r"[A-Za-z][A-Za-z-]*(?: [A-Za-z][A-Za-z-]*){0,2}")
# 提供/有/分为… then the items, their count and the noun ("提供信号橙和黑色两种颜色", "分为直链及支链两种"), or the
# count and noun first and the items after a colon ("分为三种：草地、红土与硬地")
_OFFERING = r"(?:提供|有|分为|分為|分成|包括|包含|推出|设有|設有|配有|可选|可選)"
_COUNT = r"(?P<count>[两兩二三四五六七八九十]|\d{1,2})(?P<kind_word>[种種])(?P<noun>[\u4e00-\u9fff]{0,4}?)"
_ITEMS = r"(?P<items>[^，,；;。：:！？\s]{2,60}?)"
_COUNTED_LISTS = (re.compile(_OFFERING + _ITEMS + _COUNT + r"(?=[，,；;。！？]|可选|可選|可供|供|$)"),
                  re.compile(_OFFERING + _COUNT + r"[：:]" + _ITEMS + r"(?=[，,；;。！？]|$)"))
_ZH_ITEM_SEPARATOR = re.compile(r"[和、及与或]")
_ZH_COUNTS = {"两": 2, "兩": 2, "二": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9, "十": 10}


def _colour_list(text: str) -> str | None:
    """The colours a clause lists from its start ("white and graphite" of "white and graphite, with a …"), up
    to the first item that names none; None when the first does not."""
    end, position = 0, 0
    for separator in [*_LIST_SEPARATOR.finditer(text), None]:
        item_end = separator.start() if separator else len(text)
        item = text[position:item_end].strip()
        words = item.lower().split()
        if not _ITEM.fullmatch(item) or not COLOUR_WORDS.intersection(words):
            break
        end = item_end
        if separator is None:
            break
        position = separator.end()
    return text[:end].strip() or None


def colour_pairs(sentence: str, subject: str, chunk: SourceChunk, document: SourceDocument) -> list[QAPair]:
    """"The VM-S80 comes in white and graphite" → "Which colours does VM-S80 come in?" ("white and graphite"),
    "What colours is VM-S80 available in?" and a fill-in-the-blank twin; spelled as the document spells colour."""
    colours = "colors" if re.search(r"\bcolors?\b", chunk.text, re.IGNORECASE) else "colours"
    pairs: list[QAPair] = []
    for offered in _OFFERED_IN.finditer(sentence):
        found = named_owner(offered.group("owner"), subject)
        clause = sentence[offered.end():offered.end() + _CLAUSE_END.search(sentence[offered.end():]).start()]
        listed = _colour_list(clause)
        if found is None or listed is None:
            continue
        owner, part = found
        plural = part and offered.group("verb") in ("come", "are available", "are offered", "are sold",
                                                     "are supplied")
        asked = [(f"Which {colours} {'do' if plural else 'does'} {owner} come in?", listed),
                 (f"What {colours} {'are' if plural else 'is'} {owner} available in?", listed),
                 (f'In "{subject}", what fills the blank: "{sentence[offered.start():offered.end()].strip()} ___"?',
                  listed)]
        pairs += [QAPair(question, answer, "en", document.id, chunk.id, "facts", evidence=sentence,
                         meta={"kind": "colour"}) for question, answer in asked]
    return pairs


def counted_list_pairs(sentence: str, subject: str, chunk: SourceChunk, document: SourceDocument) -> list[QAPair]:
    """"VM-C120提供信号橙和黑色两种颜色" → "VM-C120提供哪两种颜色？" and "VM-C120有哪些颜色？"
    ("信号橙和黑色"), when the list holds as many items as its number says."""
    pairs: list[QAPair] = []
    for counted in (match for pattern in _COUNTED_LISTS for match in pattern.finditer(sentence)):
        count_text, noun, items = counted.group("count"), counted.group("noun"), counted.group("items")
        count = int(count_text) if count_text.isdigit() else _ZH_COUNTS[count_text]
        parts = _ZH_ITEM_SEPARATOR.split(items)
        if len(parts) != count or not all(1 <= len(part) <= 10 for part in parts):
            continue
        clause_start = max(sentence.rfind(mark, 0, counted.start()) for mark in "，,；;。") + 1
        asking = sentence[clause_start:min(counted.start("items"), counted.start("count"))]
        clause = f"{asking}哪{count_text}{counted.group('kind_word')}{noun}"  # 种, or 種 in traditional script
        if subject not in clause:
            clause = f"关于{subject}，{clause}"
        asked = [f"{clause}？"] + ([f"{subject}有哪些{noun}？"] if noun else [])
        pairs += [QAPair(question, items, "zh", document.id, chunk.id, "facts", evidence=sentence,
                         meta={"kind": "options"}) for question in asked]
    return pairs
