"""Turning an app's raw inputs into what its prompt shows and its checks verify.

Each preparation gives the model short ids for what it may point at (`T3` for a transcript
segment, `M12` for a chat message, `S2` for a retrieved passage, `O5` for a priced
catalogue line) and keeps the real things behind those ids, so the output's references
can be resolved to timestamps, message ids and chunks after generation.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field
from typing import Any

from ownllm.apps.spec import AppSpec
from ownllm.errors import InvalidInput
from ownllm.ingest.parsed import ParseError
from ownllm.ingest.parsers.media_asr import clock, transcribe
from ownllm.ingest.parsers.options import ParseOptions
from ownllm.retrieval.search import search
from ownllm.store.home import Home
from ownllm.text import is_chinese

MAX_SEGMENTS = 120
MAX_MESSAGES = 150
MAX_TRANSCRIPT_CHARS = 6000
_TIMED_LINE = re.compile(r"^\s*\[?(?:(\d{1,2}):)?(\d{1,2}):(\d{2})\]?\s*(.*)$")
_SPEAKER = re.compile(r"^([^:：\s][^:：]{0,30})[:：]\s*(.+)$")
_PRICE = re.compile(r"(?:(?P<pre>[$€¥￥])\s*(?P<a>\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?))"
                    r"|(?:(?P<b>\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?)\s*(?P<post>USD|EUR|CNY|RMB|元))")
_CURRENCY = {"$": "USD", "€": "EUR", "¥": "CNY", "￥": "CNY", "RMB": "CNY", "元": "CNY"}


@dataclass
class AppFile:
    name: str
    data: bytes


@dataclass
class Prepared:
    """What the prompt template sees (`values`), the ids the output may use, and what is behind them."""

    values: dict[str, Any] = field(default_factory=dict)
    ids: dict[str, list[str]] = field(default_factory=dict)
    segments: dict[str, dict[str, Any]] = field(default_factory=dict)
    messages: dict[str, dict[str, Any]] = field(default_factory=dict)
    sources: dict[str, dict[str, Any]] = field(default_factory=dict)
    offers: dict[str, dict[str, Any]] = field(default_factory=dict)
    labels: list[str] = field(default_factory=list)
    lang: str = "en"
    input_text: str = ""
    speech_ended_at: float | None = None  # monotonic time the spoken request was understood
    notes: list[str] = field(default_factory=list)


def required_file(files: dict[str, AppFile], slot: str, what: str) -> AppFile:
    if slot not in files:
        raise InvalidInput(f"give {what} as the file {slot!r}", param=slot)
    return files[slot]


def lang_of(text: str, asked: Any) -> str:
    if asked in ("en", "zh"):
        return str(asked)
    return "zh" if is_chinese(text) else "en"


def _segments_from_text(text: str) -> list[dict[str, Any]]:
    """`[00:01:05] Name: words`, `00:01:05 Name: words`, `Name: words` or plain lines, one segment each."""
    out: list[dict[str, Any]] = []
    for raw in text.splitlines():
        line = raw.strip()
        if not line:
            continue
        seconds = None
        timed = _TIMED_LINE.match(line)
        if timed and timed.group(4):
            hours, minutes, secs = int(timed.group(1) or 0), int(timed.group(2)), int(timed.group(3))
            seconds, line = hours * 3600 + minutes * 60 + secs, timed.group(4).strip()
        speaker, words = "", line
        said = _SPEAKER.match(line)
        if said:
            speaker, words = said.group(1).strip(), said.group(2).strip()
        out.append({"start": seconds, "speaker": speaker, "text": words})
    return out


def prepare_transcript(inputs: dict[str, Any], files: dict[str, AppFile], options: ParseOptions) -> Prepared:
    recording = files.get("recording")
    if recording is not None:
        try:
            heard = transcribe(recording.data, options)
        except ParseError as exc:
            raise InvalidInput(f"{recording.name}: {exc}", param="recording") from exc
        raw = [{"start": start, "speaker": "", "text": text} for start, _end, text in heard.segments]
        source = f"recording {recording.name} ({heard.language}, {heard.duration:.0f} s)"
    else:
        text = str(inputs.get("transcript") or "")
        if not text.strip():
            raise InvalidInput("give a transcript or a recording of the meeting", param="transcript")
        raw = _segments_from_text(text)
        source = "transcript"
    prepared = Prepared()
    lines, used = [], 0
    for number, seg in enumerate(raw[:MAX_SEGMENTS], start=1):
        seg_id = f"T{number}"
        stamp = clock(seg["start"]) if seg["start"] is not None else ""
        speaker = f"{seg['speaker']}: " if seg["speaker"] else ""
        line = f"[{seg_id}{' ' + stamp if stamp else ''}] {speaker}{seg['text']}"
        if used + len(line) > MAX_TRANSCRIPT_CHARS:
            prepared.notes.append(f"the transcript was cut at segment {number - 1} of {len(raw)} to fit the model")
            break
        used += len(line)
        lines.append(line)
        prepared.segments[seg_id] = {"id": seg_id, "time": stamp or None, **seg}
    if len(raw) > MAX_SEGMENTS:
        prepared.notes.append(f"only the first {MAX_SEGMENTS} of {len(raw)} segments were read")
    prepared.ids["segments"] = list(prepared.segments)
    prepared.values = {"transcript_lines": "\n".join(lines), "source": source,
                       "speakers": sorted({s["speaker"] for s in prepared.segments.values() if s["speaker"]})}
    # what was said, without the prompt's segment ids (an owner "T7" must not count as named in the meeting)
    prepared.input_text = "\n".join(f"{s['speaker']} {s['text']}" for s in prepared.segments.values())
    prepared.lang = lang_of(" ".join(s["text"] for s in prepared.segments.values()), inputs.get("language"))
    return prepared


def prepare_chat_digest(inputs: dict[str, Any], files: dict[str, AppFile]) -> Prepared:
    from ownllm.apps.chat_exports import ChatExportError, parse_chat_export, unread

    export = required_file(files, "export", "the chat export")
    try:
        messages = unread(parse_chat_export(export.data, export.name, inputs.get("format")), inputs.get("read_up_to"))
    except ChatExportError as exc:
        raise InvalidInput(str(exc), param="export") from exc
    prepared = Prepared()
    if not messages:
        raise InvalidInput(f"{export.name}: no unread messages after {inputs.get('read_up_to')!r}", param="read_up_to")
    if len(messages) > MAX_MESSAGES:
        prepared.notes.append(f"only the last {MAX_MESSAGES} of {len(messages)} unread messages were read")
        messages = messages[-MAX_MESSAGES:]
    conversations: dict[str, list[dict[str, Any]]] = {}
    for number, message in enumerate(messages, start=1):
        local = f"M{number}"
        item = {"id": local, "message_id": message.id, "conversation": message.conversation,
                "sender": message.sender, "time": message.sent_at, "text": message.text}
        prepared.messages[local] = item
        conversations.setdefault(message.conversation, []).append(item)
    prepared.ids["messages"] = list(prepared.messages)
    prepared.ids["conversations"] = list(conversations)
    prepared.values = {"conversations": [{"name": name, "messages": items} for name, items in conversations.items()],
                       "me": inputs.get("me") or ""}
    prepared.input_text = "\n".join(m["text"] for m in prepared.messages.values())
    prepared.lang = lang_of(prepared.input_text, inputs.get("language"))
    return prepared


def prepare_sketch(inputs: dict[str, Any], files: dict[str, AppFile]) -> Prepared:
    from ownllm.apps.sketch import SketchError, price_of, read_sketch

    sketch = required_file(files, "sketch", "the sketch image")
    try:
        layout = read_sketch(sketch.data, sketch.name)
    except SketchError as exc:
        raise InvalidInput(str(exc), param="sketch") from exc
    prepared = Prepared(labels=list(layout.labels))
    prepared.values = {"outline": layout.outline(), "labels": layout.labels,
                       "prices": {label: price_of(label) for label in layout.labels if price_of(label) is not None}}
    prepared.input_text = "\n".join(layout.labels)
    prepared.lang = lang_of(prepared.input_text + str(inputs.get("notes") or ""), inputs.get("language"))
    return prepared


_KINDS = {"story": ("story", "tale", "bedtime", "故事", "童话"),
          "playlist": ("playlist", "songs", "music", "歌单", "歌曲", "音乐"),
          "recipe": ("recipe", "cook", "dish", "bake", "食谱", "菜谱", "做菜", "怎么做")}


def request_kind(text: str) -> str | None:
    lowered = text.lower()
    scores = {kind: sum(lowered.count(word) for word in words) for kind, words in _KINDS.items()}
    best = max(scores, key=lambda kind: scores[kind])
    return best if scores[best] else None


def prepare_speech_request(inputs: dict[str, Any], files: dict[str, AppFile], options: ParseOptions) -> Prepared:
    audio = files.get("audio")
    prepared = Prepared(speech_ended_at=time.monotonic())  # the request is whole: latency counts from here
    if audio is not None:
        try:
            heard = transcribe(audio.data, options)
        except ParseError as exc:
            raise InvalidInput(f"{audio.name}: {exc}", param="audio") from exc
        request = ("" if heard.language == "zh" else " ").join(text for _s, _e, text in heard.segments).strip()
        prepared.notes.append(f"heard ({heard.language}, {heard.duration:.1f} s): {request}")
    else:
        request = str(inputs.get("request") or "").strip()
    if not request:
        raise InvalidInput("give the spoken request as the file 'audio' or as text in 'request'", param="request")
    kind = inputs.get("kind") or request_kind(request)
    if kind is None:
        raise InvalidInput(f"could not tell whether {request!r} asks for a story, a playlist or a recipe; "
                           "say it, or set kind", param="kind")
    inputs["kind"] = kind
    prepared.values = {"request": request, "kind": kind, "age": inputs.get("age") or 6}
    prepared.input_text = request
    prepared.lang = lang_of(request, inputs.get("language"))
    return prepared


def parse_price(text: str) -> tuple[float, str] | None:
    match = _PRICE.search(text)
    if not match:
        return None
    amount = match.group("a") or match.group("b")
    symbol = match.group("pre") or match.group("post")
    return float(amount.replace(",", "")), _CURRENCY.get(symbol, symbol)


def _offer_lines(text: str) -> list[tuple[str, float, str]]:
    """Priced lines of a passage: table rows and sentences with one amount, as (label, price, currency)."""
    out = []
    for line in text.splitlines():
        if set(line.strip()) <= set("|-: "):
            continue
        price = parse_price(line)
        if price is None:
            continue
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        label = " · ".join(c for c in cells if c and parse_price(c) is None) if len(cells) > 1 else \
            _PRICE.sub("", line).strip(" :：,，.。-")
        if label:
            out.append((label[:120], *price))
    return out


def add_sources(prepared: Prepared, home: Home, tenant_id: str, spec: AppSpec, query: str) -> None:
    """Passages for the app from the tenant's corpus (and the catalogue lines priced in them)."""
    assert spec.retrieval is not None
    try:
        hits = search(home, tenant_id, query, top_k=spec.retrieval.top_k)
    except InvalidInput:
        raise
    except Exception as exc:  # no corpus yet: the app still runs, ungrounded, and says so
        prepared.notes.append(f"no passages from the corpus ({exc})")
        hits = []
    for number, hit in enumerate(hits, start=1):
        source_id = f"S{number}"
        prepared.sources[source_id] = {"id": source_id, "text": hit.text, "title": hit.document_title,
                                       "citation": hit.citation()}
        if spec.retrieval.offers:
            for label, price, currency in _offer_lines(hit.text):
                offer_id = f"O{len(prepared.offers) + 1}"
                prepared.offers[offer_id] = {"id": offer_id, "label": label, "price": price, "currency": currency,
                                             "source": source_id}
    prepared.ids["sources"] = list(prepared.sources)
    prepared.ids["offers"] = list(prepared.offers)
    prepared.values["sources"] = list(prepared.sources.values())
    prepared.values["offers"] = list(prepared.offers.values())
