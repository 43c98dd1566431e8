"""Checks on an app's output, each a plain function that says what failed.

The grammar already guarantees the JSON shape and that every id points at something real;
checks test what a grammar cannot: that sums add up, that claims say what their source
says, that an owner was named in the meeting, that the answer is in the input's language,
that a child's story is free of violence. A failed check makes the run retry, then be
reported as failed, never passed on silently.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from ownllm.apps.deadlines import said_as
from ownllm.apps.derive import UNASSIGNED
from ownllm.apps.grounding import content_words, supported
from ownllm.apps.inputs import Prepared
from ownllm.apps.spec import CheckSpec
from ownllm.text import is_chinese

# words a story for a child must not contain (a lexical screen, in both languages; see README "Apps")
UNSAFE_FOR_CHILDREN = (
    "kill", "killed", "murder", "blood", "bloody", "gun", "guns", "knife", "stab", "weapon", "dead", "die", "died",
    "corpse", "drug", "drugs", "cocaine", "alcohol", "beer", "vodka", "drunk", "cigarette", "sex", "sexy", "naked",
    "suicide", "torture", "hell", "damn", "shit", "fuck",
    "杀", "血", "枪", "刀砍", "武器", "死亡", "尸体", "毒品", "酒精", "喝酒", "香烟", "自杀", "酷刑", "色情",
    "裸体", "地狱",
)
_UNSAFE_WORDS = re.compile(r"\b(?:" + "|".join(w for w in UNSAFE_FOR_CHILDREN if w.isascii()) + r")\b", re.I)
_UNSAFE_ZH = [w for w in UNSAFE_FOR_CHILDREN if not w.isascii()]


@dataclass
class CheckResult:
    check: str
    passed: bool
    detail: str = ""
    rate: float | None = None  # for checks over many items: the share that passed

    def as_dict(self) -> dict[str, Any]:
        return {"check": self.check, "passed": self.passed, "detail": self.detail, "rate": self.rate}


def values_at(node: Any, path: str) -> Iterator[Any]:
    """`a.b[].c`: the values at a dotted path, `[]` stepping into every element of a list."""
    if not path:
        yield node
        return
    head, _, rest = path.partition(".")
    many = head.endswith("[]")
    key = head[:-2] if many else head
    value = node.get(key) if isinstance(node, dict) and key else node
    if many:
        for element in value if isinstance(value, list) else []:
            yield from values_at(element, rest)
    elif value is not None:
        yield from values_at(value, rest)


def _strings(node: Any, skip: frozenset[str] = frozenset()) -> Iterator[str]:
    if isinstance(node, str):
        yield node
    elif isinstance(node, dict):
        for key, value in node.items():
            if key not in skip:
                yield from _strings(value, skip)
    elif isinstance(node, list):
        for value in node:
            yield from _strings(value, skip)


def _rate(check: str, flags: list[bool], what: str) -> CheckResult:
    if not flags:
        return CheckResult(check, True, f"no {what}", None)
    rate = sum(flags) / len(flags)
    return CheckResult(check, all(flags), f"{sum(flags)} of {len(flags)} {what}", round(rate, 3))


def not_empty(output: dict, spec: CheckSpec, prepared: Prepared, inputs: dict) -> CheckResult:
    values = list(values_at(output, spec.path))
    empty = not values or any(v in (None, "", [], {}) for v in values)
    return CheckResult(spec.check, not empty, f"{spec.path} is empty" if empty else f"{spec.path} present")


def max_length(output: dict, spec: CheckSpec, prepared: Prepared, inputs: dict) -> CheckResult:
    limit = int(spec.limit or 0)
    too_long = [v for v in values_at(output, spec.path) if isinstance(v, str) and len(v) > limit]
    detail = f"{len(too_long)} value(s) of {spec.path} over {limit} characters" if too_long else "within limits"
    return CheckResult(spec.check, not too_long, detail)


def language(output: dict, spec: CheckSpec, prepared: Prepared, inputs: dict) -> CheckResult:
    skip = frozenset({"segment", "messages", "message_ids", "source", "offer", "html", "time", "said", "currency",
                      "catalogue", "conversation", "name"})
    text = " ".join(_strings(output, skip))
    if not text.strip():
        return CheckResult(spec.check, False, "no text to judge")
    chinese = is_chinese(text)
    ok = chinese == (prepared.lang == "zh")
    return CheckResult(spec.check, ok, f"written in {'Chinese' if chinese else 'English'}, input is {prepared.lang}")


def sums_to_budget(output: dict, spec: CheckSpec, prepared: Prepared, inputs: dict) -> CheckResult:
    lines = output.get("budget") or []
    total = sum(Decimal(str(line.get("amount", 0))) for line in lines)
    budget = Decimal(str(inputs.get("budget", 0))).quantize(Decimal("0.01"))  # amounts are in cents
    ok = bool(lines) and total == budget
    return CheckResult(spec.check, ok, f"{len(lines)} lines sum to {total} of a budget of {budget}")


def totals_add_up(output: dict, spec: CheckSpec, prepared: Prepared, inputs: dict) -> CheckResult:
    """Every line is unit price × quantity, and subtotals and totals are the sums, per currency."""
    grand: dict[str, Decimal] = {}
    problems, priced = [], 0
    for group in output.get("groups") or []:
        sums: dict[str, Decimal] = {}
        for item in group.get("items") or []:
            if item.get("unit_price") is None:
                continue
            priced += 1
            line = Decimal(str(item["unit_price"])) * int(item["quantity"])
            if line != Decimal(str(item["line_total"])):
                problems.append(f"{item.get('name')}: {item['line_total']} ≠ {line}")
            sums[item["currency"]] = sums.get(item["currency"], Decimal(0)) + line
        stated = {k: Decimal(str(v)) for k, v in (group.get("subtotals") or {}).items()}
        if stated != sums:
            problems.append(f"group {group.get('name')}: subtotals {stated} ≠ {sums}")
        for currency, amount in sums.items():
            grand[currency] = grand.get(currency, Decimal(0)) + amount
    if {k: Decimal(str(v)) for k, v in (output.get("totals") or {}).items()} != grand:
        problems.append(f"totals {output.get('totals')} ≠ {grand}")
    if not priced:
        problems.append("no item was priced from the catalogue")
    summary = ", ".join(f"{amount} {currency}" for currency, amount in grand.items())
    return CheckResult(spec.check, not problems, "; ".join(problems) or f"{priced} priced lines add up to {summary}")


def owners_known(output: dict, spec: CheckSpec, prepared: Prepared, inputs: dict) -> CheckResult:
    heard = prepared.input_text.lower()
    unassigned = {value.lower() for value in UNASSIGNED.values()}
    flags = [str(o).strip().lower() in unassigned or (bool(str(o).strip()) and str(o).strip().lower() in heard)
             for o in values_at(output, spec.path)]
    return _rate(spec.check, flags, "owners named in the input or unassigned")


def stated(output: dict, spec: CheckSpec, prepared: Prepared, inputs: dict) -> CheckResult:
    """Every non-empty value at the path was said in the input, in any spacing or marker ("Friday 5 p.m." for
    "by 5 p.m. on Friday"); a due date nobody gave is invented."""
    values = [str(v).strip() for v in values_at(output, spec.path) if str(v).strip()]
    return _rate(spec.check, [said_as(v, prepared.input_text) for v in values],
                 f"values of {spec.path} found in the input")


def citations_grounded(output: dict, spec: CheckSpec, prepared: Prepared, inputs: dict) -> CheckResult:
    flags = []
    for claim in values_at(output, spec.path):
        source = prepared.sources.get(str(claim.get("source", ""))) if isinstance(claim, dict) else None
        flags.append(source is not None and supported(str(claim.get("text", "")), source["text"]))
    return _rate(spec.check, flags, "claims supported by the passage they cite")


def items_grounded(output: dict, spec: CheckSpec, prepared: Prepared, inputs: dict) -> CheckResult:
    """Minutes and digest items say something that was said where they point (shared content words)."""
    flags = []
    for item in values_at(output, spec.path):
        if not isinstance(item, dict):
            continue
        said = ""
        if item.get("segment") in prepared.segments:
            said = prepared.segments[item["segment"]]["text"]
        for local in item.get("messages") or []:
            said += " " + prepared.messages.get(local, {}).get("text", "")
        words = content_words(str(item.get("text") or item.get("task") or ""))
        flags.append(bool(said) and bool(words & content_words(said)))
    return _rate(spec.check, flags, "items that share words with what they point at")


def labels_covered(output: dict, spec: CheckSpec, prepared: Prepared, inputs: dict) -> CheckResult:
    html = str(output.get("html") or "")
    from html import unescape

    page = unescape(html)
    names = [re.sub(r"\s*[$€¥￥]?\s*\d+(?:[.,]\d+)?\s*(?:元|USD|EUR)?\s*$", "", label).strip()
             for label in prepared.labels]
    flags = [name in page for name in names if name]
    result = _rate(spec.check, flags, "sketch labels found in the app")
    limit = spec.limit if spec.limit is not None else 1.0
    result.passed = result.rate is not None and result.rate >= limit
    return result


def child_safe(output: dict, spec: CheckSpec, prepared: Prepared, inputs: dict) -> CheckResult:
    text = " ".join(values_at(output, spec.path)) if spec.path else " ".join(_strings(output))
    found = _UNSAFE_WORDS.findall(text) + [w for w in _UNSAFE_ZH if w in text]
    return CheckResult(spec.check, not found, f"unsafe for children: {', '.join(sorted(set(found)))}" if found
                       else "no unsafe words")


CHECK_FUNCTIONS: dict[str, Callable[[dict, CheckSpec, Prepared, dict], CheckResult]] = {
    "not_empty": not_empty, "max_length": max_length, "language": language, "sums_to_budget": sums_to_budget,
    "totals_add_up": totals_add_up, "owners_known": owners_known, "citations_grounded": citations_grounded,
    "items_grounded": items_grounded, "labels_covered": labels_covered, "child_safe": child_safe,
    "stated": stated,
}


def run_checks(output: dict[str, Any], checks: list[CheckSpec], prepared: Prepared,
               inputs: dict[str, Any]) -> list[CheckResult]:
    return [CHECK_FUNCTIONS[check.check](output, check, prepared, inputs) for check in checks]
