"""Deterministic steps after generation: what a model should not be trusted to compute.

A small model picks budget shares, catalogue lines and quantities well enough but cannot
add; so amounts, line totals, subtotals and the grand total are computed here, prices come
from the catalogue line the model chose (never from its text), and short ids are resolved
to transcript times and the export's own message ids.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from ownllm.apps.deadlines import Deadline, find_deadlines, said_as
from ownllm.apps.grounding import content_words, supported
from ownllm.apps.inputs import Prepared
from ownllm.errors import InvalidInput

UNASSIGNED = {"en": "unassigned", "zh": "未指定"}
MAX_QUANTITY = 999


def _objects(node: Any):
    if isinstance(node, dict):
        yield node
        for value in node.values():
            yield from _objects(value)
    elif isinstance(node, list):
        for value in node:
            yield from _objects(value)


def segment_times(output: dict[str, Any], prepared: Prepared, inputs: dict[str, Any]) -> None:
    """Each item's time and words as said; an item pointing at a segment that shares none of its words is
    re-pointed at the segment sharing most (small models are often one line off)."""
    said_words = {seg_id: content_words(seg["text"]) for seg_id, seg in prepared.segments.items()}
    for item in _objects(output):
        if "segment" not in item:
            continue
        words = content_words(str(item.get("text") or item.get("task") or ""))
        if words and not words & said_words.get(str(item["segment"]), set()):
            overlap, best = max(((len(words & said), seg_id) for seg_id, said in said_words.items()),
                                default=(0, None))
            if overlap and best is not None:
                item["segment"] = best
    for item in _objects(output):
        segment = prepared.segments.get(str(item.get("segment", "")))
        if segment is not None:
            item["time"] = segment["time"]
            item["said"] = segment["text"]


def dues_as_said(output: dict[str, Any], prepared: Prepared, inputs: dict[str, Any]) -> None:
    """An item's due date is the deadline said with it: a due its segment says (in any wording) is kept; one
    nobody said is replaced by the segment's deadline, or emptied if it gives none; an empty one is filled.
    A line giving two people two deadlines gives each the first one said after their name."""
    for item in _objects(output):
        if "due" not in item:
            continue
        due = str(item.get("due") or "").strip()
        segment = prepared.segments.get(str(item.get("segment", "")))
        said_there = str(segment["text"]) if segment is not None else ""
        deadlines = find_deadlines(said_there)
        if due and (any(said_as(due, d.phrase) for d in deadlines) or (not deadlines and said_as(due, said_there))):
            continue  # the deadline said there, in the model's wording
        deadline = _deadline_for(deadlines, said_there, str(item.get("owner") or ""))
        if deadline is not None:
            item["due"] = deadline
        elif due and not said_as(due, prepared.input_text):
            item["due"] = ""


def _deadline_for(deadlines: list[Deadline], line: str, owner: str) -> str | None:
    if len(deadlines) == 1:
        return deadlines[0].phrase
    named_at = line.find(owner) if owner else -1
    if deadlines and named_at >= 0:
        after_name = [d for d in deadlines if d.start > named_at]
        return after_name[0].phrase if after_name else None
    return None


def owners(output: dict[str, Any], prepared: Prepared, inputs: dict[str, Any]) -> None:
    for item in _objects(output):
        if "owner" in item and not str(item["owner"]).strip():
            item["owner"] = UNASSIGNED[prepared.lang]


def message_ids(output: dict[str, Any], prepared: Prepared, inputs: dict[str, Any]) -> None:
    for item in _objects(output):
        local = item.get("messages")
        if isinstance(local, list):
            item["message_ids"] = [prepared.messages[m]["message_id"] for m in local if m in prepared.messages]


def _cents(value: Any, field: str) -> int:
    try:
        amount = Decimal(str(value))
    except Exception as exc:
        raise InvalidInput(f"{field} must be a number, not {value!r}", param=field) from exc
    if amount <= 0:
        raise InvalidInput(f"{field} must be above zero", param=field)
    return int((amount * 100).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def split_exactly(total_cents: int, weights: list[float]) -> list[int]:
    """Cents per line in proportion to the weights, summing exactly to the total (largest remainders)."""
    weights = [max(0.0, float(w)) for w in weights]
    if not weights:
        return []
    if sum(weights) <= 0:
        weights = [1.0] * len(weights)
    scale = sum(weights)
    raw = [total_cents * w / scale for w in weights]
    floors = [int(r) for r in raw]
    left = total_cents - sum(floors)
    for index in sorted(range(len(raw)), key=lambda i: raw[i] - floors[i], reverse=True)[:left]:
        floors[index] += 1
    return floors


def budget_amounts(output: dict[str, Any], prepared: Prepared, inputs: dict[str, Any]) -> None:
    lines = output.get("budget") or []
    total = _cents(inputs.get("budget"), "budget")
    for line, cents in zip(lines, split_exactly(total, [line.get("share", 0) for line in lines]), strict=True):
        line["amount"] = cents / 100
    output["budget_total"] = total / 100
    output["currency"] = inputs.get("currency") or ("CNY" if prepared.lang == "zh" else "USD")


def offer_prices(output: dict[str, Any], prepared: Prepared, inputs: dict[str, Any]) -> None:
    """Catalogue prices for the chosen offers; line totals and subtotals/totals per currency computed here
    (a list mixing a USD and an EUR price list gets two totals, never one sum of both)."""
    totals: dict[str, int] = {}
    for group in output.get("groups") or []:
        subtotals: dict[str, int] = {}
        for item in group.get("items") or []:
            offer = prepared.offers.get(str(item.get("offer", "")))
            quantity = min(MAX_QUANTITY, max(1, int(item.get("quantity") or 1)))
            item["quantity"] = quantity
            if offer is None:
                item.update(unit_price=None, line_total=None, currency=None, catalogue=None)
                continue
            unit = _cents(offer["price"], "price")
            item.update(unit_price=unit / 100, line_total=unit * quantity / 100, currency=offer["currency"],
                        catalogue=offer["label"], source=offer["source"])
            subtotals[offer["currency"]] = subtotals.get(offer["currency"], 0) + unit * quantity
        group["subtotals"] = {currency: cents / 100 for currency, cents in sorted(subtotals.items())}
        for currency, cents in subtotals.items():
            totals[currency] = totals.get(currency, 0) + cents
    output["totals"] = {currency: cents / 100 for currency, cents in sorted(totals.items())}


def attribute_claims(output: dict[str, Any], prepared: Prepared, inputs: dict[str, Any]) -> None:
    """A claim that its cited passage does not support but another one does is re-cited to that one;
    small models copy the right sentence and label it with the neighbouring id."""
    for claim in output.get("claims") or []:
        cited = prepared.sources.get(str(claim.get("source", "")))
        text = str(claim.get("text", ""))
        if cited is not None and supported(text, cited["text"]):
            continue
        for source_id, source in prepared.sources.items():
            if supported(text, source["text"]):
                claim["source"] = source_id
                break


def sketch_app(output: dict[str, Any], prepared: Prepared, inputs: dict[str, Any]) -> None:
    """The ordering app's HTML; a price written in the sketch wins over the model's."""
    from ownllm.apps.sketch import render_ordering_app

    written = prepared.values.get("prices") or {}
    for section in output.get("sections") or []:
        for item in section.get("items") or []:
            for label, price in written.items():
                if item.get("name") and item["name"] in label:
                    item["price"] = price
                    break
    try:
        output["html"] = render_ordering_app(output, prepared.lang)
    except ValueError as exc:  # the model's description cannot be built (an item without a name, ...)
        output["html"], output["html_error"] = "", str(exc)


DERIVE = {"segment_times": segment_times, "dues_as_said": dues_as_said, "owners": owners,
          "message_ids": message_ids, "budget_amounts": budget_amounts, "offer_prices": offer_prices,
          "attribute_claims": attribute_claims, "sketch_app": sketch_app}
