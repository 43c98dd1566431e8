"""The options a thing comes in: "It comes in white and graphite", "VM-C120提供信号橙和黑色两种颜色".

A product's colours (or sizes, models) are a list after a verb, with no number, label or copula for `facts.py`
or `attributes.py` to find, and no head noun after them for `kinds.py`. Each language marks such a list its own
way, and each mark is checked before anything is asked:
- English names no noun ("comes in white and graphite"), so a list is read only when every item ends in a colour
  word: colours are a closed, general vocabulary, while "comes in three sizes", "is available in English and
  French" or "is available in amber glass vials" could not be asked about without knowing what the items are.
- Chinese counts the list and names the noun ("信号橙和黑色两种颜色"), so any noun is read, and the list must hold
  as many items as the number says.
A negated offer ("It doesn't come in red", "没有…两种颜色") is no option, and is not read.
"""

from __future__ import annotations

import re

from ownllm.synth.kinds import OWNER_BEFORE_VERB, match_owner
from ownllm.synth.records import QAPair
from ownllm.synth.source import SourceChunk, SourceDocument

# a verb that offers options, with who offers them before it ("The VM-S80 comes in", "It is available in"); "sold
# in" and "supplied in" are left out: what follows them is mostly packaging ("supplied in white HDPE bottles")
_OFFERED_IN = re.compile(OWNER_BEFORE_VERB + r"(?P<verb>comes|come|(?:is|are) (?:available|offered))\s+in\s+")
_PLURAL_VERBS = {"come", "are available", "are offered"}
_CLAUSE_END = re.compile(r"[.;!?]|$")
_LIST_SEPARATOR = re.compile(r",\s*(?:and|or)\s+|,\s*|\s+(?:and|or)\s+", re.IGNORECASE)
# general colour names, plain and as products name them ("graphite", "sand"); an item is a colour when its last
# word is here ("slate grey", "signal orange", "rose gold")
COLOUR_WORDS = frozenset({
    "black", "white", "grey", "gray", "silver", "gold", "red", "blue", "green", "yellow", "orange", "purple",
    "pink", "brown", "beige", "cream", "ivory", "navy", "teal", "turquoise", "cyan", "magenta", "violet", "lilac",
    "lavender", "indigo", "maroon", "burgundy", "crimson", "scarlet", "coral", "olive", "khaki", "tan", "bronze",
    "copper", "graphite", "charcoal", "anthracite", "champagne", "sand", "taupe", "mint", "lime", "emerald", "jade",
    "amber", "ochre", "mustard", "aqua", "azure", "cobalt", "ruby", "rose", "peach", "salmon", "plum", "chrome",
    "titanium", "pearl", "slate"})
# a colour's name: one to three words, no article or other function word ("a black case" is a thing)
_ITEM = re.compile(r"[A-Za-z][A-Za-z-]*(?: [A-Za-z][A-Za-z-]*){0,2}")
_NOT_IN_A_COLOUR = {"a", "an", "the", "and", "or", "only", "in", "with", "of", "for", "its", "their", "both"}
# the first words of a phrase that follows a finished list after its comma ("…, with a LED display")
_CLAUSE_STARTERS = {"with", "which", "that", "but", "while", "plus", "including", "for", "at", "from", "as", "so",
                    "each", "all", "both", "and", "or", "in", "on", "to", "making", "giving", "where", "whereas"}

# 提供/设有/分为… then the items, their count and the noun ("提供信号橙和黑色两种颜色", "分为直链及支链两种"), or the
# count and noun first and the items after a colon ("分为三种：草地、红土与硬地"). A bare 有 is a verb only where it
# starts no word of its own (有限, 有机, 有效), and never after a negation (没有, 不提供)
_OFFERING = (r"(?<![没沒无無不未非])(?:提供|分为|分為|分成|包括|包含|推出|设有|設有|配有|共有|备有|備有|可选|可選"
             r"|有(?![限机機效关關些的时時点點所名益利用助意]))")
_NUMERAL = "〇零一二两兩三四五六七八九十百千0123456789"
_COUNT = (rf"(?<![{_NUMERAL}])(?P<count>[两兩二三四五六七八九十]|\d{{1,2}})(?P<kind_word>[种種])"
          r"(?P<noun>[\u4e00-\u9fff]{0,4}?)")
_ITEMS = r"(?P<items>(?:(?!提供|分为|分為|分成|包括|包含|有)[^，,；;。：:！？\s]){2,60}?)"
_NOUN_END = r"(?=[，,；;。！？]|可选|可選|可供|供|均|都|任|$)"
_COUNTED_LISTS = (re.compile(_OFFERING + _ITEMS + _COUNT + _NOUN_END),
                  re.compile(_OFFERING + _COUNT + r"[：:]" + _ITEMS + r"(?=[，,；;。！？]|$)"))
_ZH_ITEM_SEPARATOR = re.compile(r"[和、及与與或]")
_ZH_COUNTS = {"两": 2, "兩": 2, "二": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9, "十": 10}
# a clause's owner that is the document's subject in other words ("该车", "本產品", "它")
_ZH_SUBJECT_WORDS = ("该", "該", "本", "此", "这", "這", "它", "其")
_ZH_PLAIN_OWNER = re.compile(r"[\u4e00-\u9fffA-Za-z0-9-]{1,8}")
# owners that are no part of the subject: a person ("我国", "他们"), a place ("地球上", "市场中"), or a clause
# whose verb comes first ("主要把土著分成…", "按材料分为…")
_ZH_NOT_A_PART = re.compile(r"^[我你他她您咱]|[上中里裏内內外]$|[把将將被按由对對从從]")


def _is_colour(item: str) -> bool:
    words = item.lower().split()
    return (_ITEM.fullmatch(item) is not None and words[-1] in COLOUR_WORDS
            and not _NOT_IN_A_COLOUR.intersection(words))


def _colour_list(text: str) -> str | None:
    """The colours a clause lists from its start, or None unless every item of the list is a colour.

    The list may end before a comma that starts a new phrase ("white and graphite, with a LED display"), once it
    is closed by "and"/"or" or is one colour: "red, blue and lemon" and "mint, lemon and peach flavours" are lists
    with an item that is no colour, and are not read at all.
    """
    end, position, items, closed, previous = 0, 0, 0, False, None
    for separator in [*_LIST_SEPARATOR.finditer(text), None]:
        item_end = separator.start() if separator else len(text)
        item = text[position:item_end].strip()
        if not _is_colour(item):
            starts_a_clause = previous is not None and not _joins(previous) and (
                item.split(" ", 1)[0].lower() in _CLAUSE_STARTERS)
            return text[:end].strip() if items and starts_a_clause and (closed or items == 1) else None
        end, items = item_end, items + 1
        closed = previous is not None and _joins(previous)  # the item just read was joined by "and"/"or"
        if separator is None:
            break
        previous, position = separator, separator.end()
    return text[:end].strip() or None


def _joins(separator: re.Match[str]) -> bool:
    return re.search(r"\b(?:and|or)\b", separator.group(), re.IGNORECASE) is not None


def colour_pairs(sentence: str, subject: str, chunk: SourceChunk, document: SourceDocument) -> list[QAPair]:
    """"The VM-S80 comes in white and graphite" → "Which colours does VM-S80 come in?" ("white and graphite"),
    "What colours is VM-S80 available in?" and a fill-in-the-blank twin; spelled as the document spells colour.
    The owner is read as `kinds.match_owner` reads it, so "It doesn't come in red" is no offer."""
    pairs: list[QAPair] = []
    for offered in _OFFERED_IN.finditer(sentence):
        found = match_owner(offered, sentence, subject)
        clause = sentence[offered.end():offered.end() + _CLAUSE_END.search(sentence[offered.end():]).start()]
        listed = _colour_list(clause)
        if found is None or listed is None:
            continue
        owner, part = found
        plural = part and offered.group("verb") in _PLURAL_VERBS
        colours = "colors" if re.search(r"\bcolors?\b", chunk.text, re.IGNORECASE) else "colours"
        asked = [(f"Which {colours} {'do' if plural else 'does'} {owner} come in?", listed),
                 (f"What {colours} {'are' if plural else 'is'} {owner} available in?", listed),
                 (f'In "{subject}", what fills the blank: "{sentence[offered.start():offered.end()].strip()} ___"?',
                  listed)]
        pairs += [QAPair(question, answer, "en", document.id, chunk.id, "facts", evidence=sentence,
                         meta={"kind": "colour"}) for question, answer in asked]
    return pairs


def _zh_owner_question(owner: str, subject: str, noun: str) -> str | None:
    """"X有哪些颜色？", asked of the clause's own owner: the subject when the clause stands for it ("该车") or names
    nothing, the owner as written when it names the subject ("稻米的淀粉"), the subject's part when it is a short
    plain noun ("辛德的座椅"); none when the owner is more than a noun, a person or a place."""
    if not noun:
        return None
    if not owner or owner.startswith(_ZH_SUBJECT_WORDS):
        return f"{subject}有哪些{noun}？"
    if subject in owner:
        return f"{owner}有哪些{noun}？"
    if _ZH_PLAIN_OWNER.fullmatch(owner) and not _ZH_NOT_A_PART.search(owner):
        return f"{subject}的{owner}有哪些{noun}？"
    return None


def counted_list_pairs(sentence: str, subject: str, chunk: SourceChunk, document: SourceDocument) -> list[QAPair]:
    """"VM-C120提供信号橙和黑色两种颜色" → "VM-C120提供哪两种颜色？" and "VM-C120有哪些颜色？"
    ("信号橙和黑色"), when the list holds as many items as its number says."""
    asked: dict[str, str] = {}
    for counted in (match for pattern in _COUNTED_LISTS for match in pattern.finditer(sentence)):
        count_text, noun = counted.group("count"), counted.group("noun")
        items = re.sub(r"等+$", "", counted.group("items"))  # "汉语和藏语等两种": the count still counts them
        count = int(count_text) if count_text.isdigit() else _ZH_COUNTS[count_text]
        parts = _ZH_ITEM_SEPARATOR.split(items)
        if len(parts) != count or not all(1 <= len(part) <= 10 for part in parts):
            continue
        clause_start = max(sentence.rfind(mark, 0, counted.start()) for mark in "，,；;。") + 1
        owner = sentence[clause_start:counted.start()].strip()
        verb = sentence[counted.start():min(counted.start("items"), counted.start("count"))]
        traditional = counted.group("kind_word") == "種"
        clause = f"{owner or subject}{verb}哪{count_text}{counted.group('kind_word')}{noun}"
        if subject not in clause:
            clause = f"{'關於' if traditional else '关于'}{subject}，{clause}"
        asked[f"{clause}？"] = items
        by_owner = _zh_owner_question(owner, subject, noun)
        if by_owner:
            asked[by_owner] = items
    return [QAPair(question, answer, "zh", document.id, chunk.id, "facts", evidence=sentence,
                   meta={"kind": "options"}) for question, answer in asked.items()]
