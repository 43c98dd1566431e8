"""Find the deadlines a speaker gave in one line of a meeting ("by the end of the month", "在周五前").

Minutes need the due date as it was said; a small model asked for one often writes a calendar date
nobody gave. The phrase is found by a small grammar of time expressions and the markers that make
one a deadline, not by resolving dates (the meeting's own date is unknown, so "Friday" stays "Friday"):

- English: "by", "before", "no later than", "due", "within", "have until", "the deadline is", followed
  by words that name a point in time (weekdays, months, dates, clock times, tomorrow, the end of a
  day/week/month/quarter/year) or, after "within"/"due in", a span ("two weeks").
- Chinese: a time expression before 前/之前/以前 (周五前, 三月底前, 明天中午之前, 国庆节前), a span before
  内/之内 (两周内), or one after 截止/最晚/最迟/不晚于 (最晚周四下午).

A phrase about the past is not a deadline: "three days ago" (三天前), "last week" (上周), "yesterday",
or a clause in the past tense ("by May we had lost …"). So is a rate ("paid by the month", "week by
week"), an amount ("by 5 percent") or an event without a time ("before the meeting", 年会前).
"""

from __future__ import annotations

import re
from typing import NamedTuple

# ---- Chinese -------------------------------------------------------------------------------------------------------
_NUM = r"(?:[0-9０-９]{1,4}|[零〇一二三四五六七八九十两]{1,4})"
_DAYNAME = r"[一二三四五六日天末1-7]"
_END = r"(?:[底末初]|中旬|上旬|下旬)"
_REL = r"(?:本|这个?|下下?个?|上上?个?|今|明|去|前|次|每个?)"  # 上/去/前(年) are the past; rejected below
_YEAR = rf"(?:{_NUM}年|[今明去前本]年)"
_MONTH = rf"(?:{_NUM}个?月|{_REL}月)"  # a bare 月 is no month (每个月前五天)
_TIME_OF_DAY = rf"(?:上午|中午|下午|晚上|早上|傍晚|下班|午饭|{_NUM}点(?:半|{_NUM}分)?)"
_HOLIDAY = r"(?:春节|国庆节?|五一|十一|元旦|中秋节?|端午节?|清明节?|双十一|双11|圣诞节?|元宵节?)"
_POINT_ZH = (rf"(?:{_YEAR}?{_MONTH}(?:{_NUM}[日号]|{_END}|中)?"
             rf"|{_YEAR}年?{_END}?"
             rf"|{_NUM}[日号]"
             rf"|{_REL}?(?:周|星期|礼拜){_DAYNAME}"
             rf"|{_REL}(?:周|星期|礼拜)"
             rf"|(?:{_REL}|第?[一二三四1-4])?季度{_END}?|[Qq][1-4]"
             rf"|大?后天|今天|明天|昨天|前天|今晚|明早|明晚|今早|当天|[年月](?:底|末|初|中)"
             rf"|{_HOLIDAY})")
_WHEN_ZH = rf"(?:{_POINT_ZH}(?:{_TIME_OF_DAY}){{0,2}}(?:结束)?|(?:{_TIME_OF_DAY}){{1,2}})"
# a span counts months with 个 (三个月); 三月 is March
_SPAN_ZH = (rf"(?:(?:{_NUM}|几|半)(?:个(?:月|星期|礼拜|工作日|小时)|工作日|天|周|星期|礼拜|年|小时|分钟)"
            rf"|本周|本月|这周|这个月|今年|当天|当月)")
_ZH_PATTERNS = (
    # 前 that begins another word (前端, 前期, 前后 …) or a count (前五个) is not "before"; …前的 describes
    re.compile(rf"(?P<phrase>(?P<when>(?:{_SPAN_ZH})|{_WHEN_ZH})(?:之前|以前|前(?![端期后台面夕景途列线沿一二三四五六七八九十两几0-9])))(?!的)"),
    re.compile(rf"(?P<phrase>(?P<when>{_SPAN_ZH})(?:之内|以内|内))"),
    re.compile(rf"(?:截止(?:日期|时间)?[是为到]?|截至|最晚|最迟|不晚于|(?:deadline|期限)[是为])\s*(?P<phrase>(?P<when>{_WHEN_ZH}))"),
    re.compile(rf"(?P<phrase>(?P<when>{_WHEN_ZH}))截止"),
)
_ZH_SPAN_ONLY = re.compile(rf"^{_SPAN_ZH}$")
_ZH_PAST = re.compile(r"^(?:上|去年|前年|昨|前天)")
_ZH_PAST_BEFORE = re.compile(r"(?:去年|前年|上个?[周月]|上星期|上礼拜|昨天|前天)[^，。；！？,;!?]{0,4}$")
_ZH_PAST_AFTER = re.compile(r"^[^，。；！？,;!?]*?(?:已经|曾经|过[一-龥]{0,2}|就[^，。；！？,;!?]*了)")
_ZH_DESCRIBED = re.compile(r"^(?:的|[^，。；！？,;!?]{0,4}了)")  # 三个月以内的订单, 一周之内出了三次故障

# ---- English -------------------------------------------------------------------------------------------------------
_WEEKDAYS = "monday|tuesday|wednesday|thursday|friday|saturday|sunday|mon|tue|tues|wed|thu|thur|thurs|fri|sat|sun"
_MONTHS = ("january|february|march|april|may|june|july|august|september|october|november|december|"
           "jan|feb|mar|apr|jun|jul|aug|sep|sept|oct|nov|dec")
_EN_NUMBERS = {word: n for n, word in enumerate((
    "zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven", "twelve",
    "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen", "nineteen"))}
_EN_TENS = {"twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70, "eighty": 80,
            "ninety": 90}
_EN_ORDINALS = {word: n for n, word in enumerate((
    "zeroth", "first", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth", "ninth", "tenth",
    "eleventh", "twelfth", "thirteenth", "fourteenth", "fifteenth", "sixteenth", "seventeenth", "eighteenth",
    "nineteenth", "twentieth"))} | {"thirtieth": 30}
_UNITS = "|".join(list(_EN_NUMBERS)[1:10])  # one … nine
_TENS = "|".join(_EN_TENS)
_NUMBER_WORDS = rf"(?:(?:{_TENS})(?:[- ](?:{_UNITS}))?|{_UNITS}|{'|'.join(list(_EN_NUMBERS)[10:])}|a|an|few|couple)"
_ORDINAL_UNITS = "|".join(list(_EN_ORDINALS)[1:10])  # first … ninth
_ORDINAL_WORDS = (rf"(?:(?:twenty|thirty)-?)?(?:{_ORDINAL_UNITS})|{'|'.join(list(_EN_ORDINALS)[10:20])}|"
                  "twentieth|thirtieth")
_TENS_AND_UNIT = re.compile(rf"\b({_TENS})[- ]({_UNITS})\b")  # forty-eight, as said_as reads it
_TENS_AND_ORDINAL = re.compile(rf"\b({_TENS})[- ]({_ORDINAL_UNITS})\b")  # twenty-first
_SPOKEN_FILLERS = {"like", "uh", "um", "er", "erm", "say", "maybe", "probably", "roughly", "around", "about"}
_HEAD = re.compile(rf"^(?:{_WEEKDAYS}|{_MONTHS}|mid-(?:{_MONTHS})|tomorrow|tonight|today|noon|midnight|"
                   r"eod|eow|eom|cob|eob|weekend|morning|afternoon|evening|lunchtime|lunch|"
                   r"q[1-4]|h[12]|\d{4}-\d{1,2}-\d{1,2}|\d{1,2}/\d{1,2}(?:/\d{2,4})?|\d{1,2}(?::\d{2})?\s?(?:am|pm)|"
                   r"\d{1,2}:\d{2}|\d{1,2} o'clock|\d{1,2}(?:st|nd|rd|th)|"
                   rf"(?:{_NUMBER_WORDS}) (?:o'clock|am|pm)|{_ORDINAL_WORDS})$")
_UNIT = re.compile(r"^(?:day|week|month|quarter|year|hour|business day|working day)s?$")
_NUMBER = re.compile(rf"^(?:\d{{1,3}}|{_NUMBER_WORDS})$")
_YEAR_EN = re.compile(r"^(?:19|20)\d{2}$")
_FILLERS = {"the", "this", "next", "coming", "end", "of", "close", "start", "beginning", "middle", "at", "on",
            "latest", "very", "business", "same", "following", "first", "after", "in", "day", "days", "week",
            "weeks", "month", "months", "quarter", "year", "hour", "hours", "working", "thing"}
_TRAILING = {"the", "this", "next", "coming", "of", "at", "on", "very", "same", "following", "in", "after"}
_PAST_WORDS = {"last", "ago", "yesterday", "previous", "earlier", "past"}
_EN_MARKER = re.compile(r"\b(?P<marker>by|before|no later than|not later than|due(?: on| by| in)?|within|"
                        r"(?:have|has|got) until|(?:deadline|due date) (?:is|of))\s+", re.IGNORECASE)
_WORD = re.compile(rf"(?:\d{{1,2}}(?::\d{{2}})?|\b(?:{_NUMBER_WORDS}))\s?(?:[ap]\.?m\b\.?|o'clock)|"
                   r"[A-Za-z0-9][A-Za-z0-9:/-]*(?:'s)?", re.IGNORECASE)
_PAST_BEFORE = re.compile(r"\b(?:had|was|were|did|waited|stopped)\s+(?:\w+\s+){0,2}$", re.IGNORECASE)
_PAST_AFTER = re.compile(r"^[\s,]*(?:we|i|they|he|she|it|you|everything|nobody|everyone)\s+"
                         r"(?:had|was|were|did|never|already|\w+ed)\b", re.IGNORECASE)


class Deadline(NamedTuple):
    start: int  # where its marker (English) or phrase (Chinese) begins in the line
    phrase: str  # as said


def find_deadlines(text: str) -> list[Deadline]:
    """Every deadline said in `text`, in the order said, each as said (without its English marker)."""
    found = sorted(_chinese_deadlines(text) + _english_deadlines(text))
    kept: list[tuple[int, int, str]] = []
    for start, end, phrase in found:
        if not kept or start >= kept[-1][1]:
            kept.append((start, end, phrase))
    return [Deadline(start, phrase) for start, _, phrase in kept]


def deadline_in(text: str) -> str | None:
    """The first deadline said in `text`, or None."""
    found = find_deadlines(text)
    return found[0].phrase if found else None


def said_as(value: str, text: str) -> bool:
    """Whether `value` (a due date the model wrote) was said in `text`, allowing for the model's spacing,
    markers, abbreviations and numerals: "Friday 5 p.m." in "by five pm on Friday", 本周五 in 这周五下班前,
    两周内 in 两周之内, 3月底 in 三月底前. Words must match whole ("Mar" is not in "market"); a date the model
    computed ("3月31日" for 三月底) was not said."""
    said, value_form = _said_form(text), _said_form(value)
    said_words, said_cjk = set(re.findall(r"[a-z0-9]+", said)), re.sub(r"[^0-9\u4e00-\u9fff]", "", said)
    pieces = re.findall(r"[0-9]*[\u4e00-\u9fff][0-9\u4e00-\u9fff]*|[a-z0-9]+", value_form)
    return bool(pieces) and all(piece in said_cjk if re.search(r"[\u4e00-\u9fff]", piece) else piece in said_words
                                for piece in pieces)


_ABBREVIATIONS = {"mon": "monday", "tue": "tuesday", "tues": "tuesday", "wed": "wednesday", "thu": "thursday",
                  "thur": "thursday", "thurs": "thursday", "fri": "friday", "sat": "saturday", "sun": "sunday",
                  "jan": "january", "feb": "february", "mar": "march", "apr": "april", "jun": "june",
                  "jul": "july", "aug": "august", "sep": "september", "sept": "september", "oct": "october",
                  "nov": "november", "dec": "december", "eod": "end day", "cob": "close business",
                  "eob": "end business", "eow": "end week", "eom": "end month"}
_ZH_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8,
              "九": 9}


def _said_form(text: str) -> str:
    """Lower case, English numbers and ordinals as digits, abbreviations spelt out, markers dropped; Chinese
    numerals as digits, 这/这个 as 本, 星期/礼拜 as 周, 之前/以前 as 前, 之内/以内 as 内, 末 as 底."""
    text = re.sub(r"\b([ap])\.m\.?", r"\1m", text.lower())
    text = re.sub(r"\b(\d+)(?:st|nd|rd|th)\b", r"\1", text)
    text = re.sub(r"(\d)(am|pm)\b", r"\1 \2", text)
    text = _TENS_AND_UNIT.sub(lambda m: str(_EN_TENS[m[1]] + _EN_NUMBERS[m[2]]), text)
    text = _TENS_AND_ORDINAL.sub(lambda m: str(_EN_TENS[m[1]] + _EN_ORDINALS[m[2]]), text)
    text = re.sub(r"[a-z]+", lambda m: _ABBREVIATIONS.get(m[0], m[0]), text)
    text = re.sub(r"[a-z]+", lambda m: str(_EN_NUMBERS.get(m[0], _EN_ORDINALS.get(m[0], _EN_TENS.get(m[0], m[0])))),
                  text)
    text = re.sub(r"\b(?:by|before|on|at|the|of|no later than|not later than|due|in|within|until)\b", " ", text)
    for old, new in (("星期", "周"), ("礼拜", "周"), ("这个", "本"), ("这", "本"), ("之前", "前"), ("以前", "前"),
                     ("之内", "内"), ("以内", "内"), ("末", "底"), ("周天", "周日"), ("月月", "月")):
        text = text.replace(old, new)
    text = re.sub(r"[零〇一二两三四五六七八九十]+", lambda m: _zh_number(m[0]), text)
    return re.sub(r"[在的,.'’]", "", text)


def _zh_number(numeral: str) -> str:
    """一 → 1, 十五 → 15, 二十三 → 23; a longer run is read digit by digit (二〇二四 → 2024)."""
    if "十" not in numeral:
        return "".join(str(_ZH_DIGITS[ch]) for ch in numeral)
    tens, _, ones = numeral.partition("十")
    if len(tens) > 1 or len(ones) > 1 or "十" in ones:
        return numeral
    return str((_ZH_DIGITS.get(tens, 1) if tens else 1) * 10 + (_ZH_DIGITS[ones] if ones else 0))


def _chinese_deadlines(text: str) -> list[tuple[int, int, str]]:
    found = []
    for pattern in _ZH_PATTERNS:
        for match in pattern.finditer(text):
            when, after = match.group("when"), text[match.end():]
            if _ZH_PAST.match(when) or _ZH_PAST_BEFORE.search(text[:match.start()]) or _ZH_PAST_AFTER.match(after):
                continue  # 上周五之前的数据, 去年国庆前我们出过事故, 他在五一前就已经离职了
            if pattern is _ZH_PATTERNS[0] and _ZH_SPAN_ONLY.match(when):
                continue  # 三天前, 两年前: ago
            if pattern is _ZH_PATTERNS[1] and _ZH_DESCRIBED.match(after):
                continue
            found.append((match.start("phrase"), match.end("phrase"), match.group("phrase")))
    return found


def _english_deadlines(text: str) -> list[tuple[int, int, str]]:
    found = []
    for marker in _EN_MARKER.finditer(text):
        words = _time_words_after(text, marker.end())
        tokens = [_normal(w.group()) for w in words]
        if not words or not _names_a_time(tokens, marker.group("marker").lower()):
            continue
        clause_start = max(text.rfind(p, 0, marker.start()) for p in ".;!?\n")
        before = text[clause_start + 1:marker.start()]
        after = text[words[-1].end():]
        previous = before.split()[-1].lower() if before.split() else ""
        if (_PAST_WORDS & set(tokens) or _PAST_BEFORE.search(before) or _PAST_AFTER.match(after)
                or (previous == tokens[0] and _UNIT.match(previous))  # week by week, day by day
                or (len(tokens) == 2 and tokens[0] == "the" and _UNIT.match(tokens[1]))  # paid by the month
                or _next_word_is_past(after)):
            continue
        if len(tokens) == 1 and _YEAR_EN.match(tokens[0]) and re.match(r"^\s*[A-Za-z]", after) \
                and not re.match(r"^\s*(?:we|i|they|you)\b", after, re.I):
            continue  # "grew by 2000 units" is an amount
        phrase = text[words[0].start():words[-1].end()]
        phrase = re.sub(r"'s$", "", phrase)
        if marker.group("marker").lower() in ("within", "due in"):
            phrase = text[marker.start():words[-1].end()]  # "within two weeks" reads on its own
        found.append((marker.start(), words[-1].end(), phrase))
    return found


def _next_word_is_past(after: str) -> bool:
    """"By Friday last week", "before Monday's outage everything was fine": the rest of the clause is past."""
    clause = re.split(r"[.;!?\n]", after, maxsplit=1)[0]
    following = [w.lower().strip(",") for w in clause.split()[:4]]
    return any(w in _PAST_WORDS or w in {"had", "was", "were", "did"} for w in following)


def _normal(word: str) -> str:
    word = re.sub(r"'s$", "", word.lower())
    return re.sub(r"\s?([ap])\.?m\.?$", r" \1m", word).replace("  ", " ")


def _time_words_after(text: str, position: int) -> list[re.Match[str]]:
    words: list[re.Match[str]] = []
    for word in _WORD.finditer(text, position):
        gap = text[(words[-1].end() if words else position):word.start()]
        if gap.strip(" ,") or len(words) >= 7:  # the phrase ends at punctuation or after seven words
            break
        token = _normal(word.group())
        if not words and token in _SPOKEN_FILLERS:  # "by like Thursday", "by uh Thursday"
            position = word.end()
            continue
        if not (_HEAD.match(token) or _NUMBER.match(token) or _YEAR_EN.match(token) or token in _FILLERS
                or token in _PAST_WORDS or _UNIT.match(token)):
            break
        words.append(word)
    while words and _normal(words[-1].group()) in _TRAILING:
        words.pop()
    return words


def _names_a_time(tokens: list[str], marker: str) -> bool:
    """A bare number ("by 5") is an amount, not a date; with a month, a time word or a unit it is one."""
    if any(_HEAD.match(t) for t in tokens):
        return True
    if len(tokens) == 1 and _YEAR_EN.match(tokens[0]):
        return True
    has_unit = any(_UNIT.match(t) for t in tokens)
    if marker in ("within", "due in"):
        return has_unit and any(_NUMBER.match(t) for t in tokens)
    return has_unit and any(t in {"end", "close", "start", "beginning", "middle", "next", "this", "first"}
                            for t in tokens)
