"""Structured text that people keep as documents: JSON and XML read as their text (never stored as raw
markup), and subtitles (.vtt, .srt) as timed text cited by time like a transcript."""

from __future__ import annotations

import json
import re

from defusedxml.ElementTree import ParseError as XmlError
from defusedxml.ElementTree import fromstring

from ownllm.ingest.parsed import Block, ParsedDocument, ParseError, Unit
from ownllm.ingest.parsers.options import ParseOptions
from ownllm.ingest.textcodec import decode_text

_CUE_TIME = re.compile(r"(?:(\d+):)?(\d\d):(\d\d)[.,](\d{3})\s*-->\s*(?:(\d+):)?(\d\d):(\d\d)[.,](\d{3})")
_TAGS = re.compile(r"<[^>]+>")
UNIT_SECONDS = 60.0
MAX_DEPTH = 64


def _json_lines(value: object, path: str, out: list[str], depth: int = 0) -> None:
    if depth > MAX_DEPTH:
        raise ParseError("JSON nests deeper than 64 levels")
    if isinstance(value, dict):
        for key, item in value.items():
            _json_lines(item, f"{path}.{key}" if path else str(key), out, depth + 1)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _json_lines(item, f"{path}[{index}]", out, depth + 1)
    elif value is not None and str(value).strip():
        text = str(value).strip()
        out.append(f"{path}: {text}" if path else text)


def parse_json(data: bytes, name: str, options: ParseOptions) -> ParsedDocument:
    """Each value with its key path (`product.warranty.years: 10`), so a search finds facts, not braces."""
    try:
        value = json.loads(decode_text(data).text)
    except ValueError as exc:
        raise ParseError(f"JSON is not valid: {exc}") from exc
    lines: list[str] = []
    _json_lines(value, "", lines)
    if not lines:
        raise ParseError("JSON holds no text values")
    blocks = [Block("\n".join(lines[i:i + 30])) for i in range(0, len(lines), 30)]
    return ParsedDocument("", [Unit("section", None, blocks)], "json")


def parse_xml(data: bytes, name: str, options: ParseOptions) -> ParsedDocument:
    """The text of the elements, one line per element that holds text (entities and DTDs refused)."""
    try:
        root = fromstring(data, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except XmlError as exc:
        raise ParseError(f"XML is not well-formed: {exc}") from exc
    except Exception as exc:  # defusedxml's DTD/entity refusals
        raise ParseError(f"XML refused: {type(exc).__name__}") from exc
    lines = []
    for element in root.iter():
        for piece in (element.text, element.tail):
            if piece and piece.strip():
                lines.append(" ".join(piece.split()))
    if not lines:
        raise ParseError("XML holds no text")
    blocks = [Block("\n".join(lines[i:i + 30])) for i in range(0, len(lines), 30)]
    return ParsedDocument("", [Unit("section", None, blocks)], "xml")


def _seconds(hours: str | None, minutes: str, seconds: str, millis: str) -> float:
    return int(hours or 0) * 3600 + int(minutes) * 60 + int(seconds) + int(millis) / 1000


def _clock(seconds: float) -> str:
    whole = int(seconds)
    return f"{whole // 3600:02d}:{whole % 3600 // 60:02d}:{whole % 60:02d}"


def parse_subtitles(data: bytes, name: str, options: ParseOptions) -> ParsedDocument:
    """WebVTT or SubRip cues as timed text, grouped into units of about a minute (like a transcript)."""
    text = decode_text(data).text.replace("\r\n", "\n")
    units: list[Unit] = []
    for cue in re.split(r"\n\s*\n", text):
        lines = cue.strip().split("\n")
        index = next((i for i, line in enumerate(lines) if _CUE_TIME.search(line)), None)
        if index is None:
            continue
        match = _CUE_TIME.search(lines[index])
        assert match is not None
        start, end = _seconds(*match.groups()[:4]), _seconds(*match.groups()[4:])
        spoken = " ".join(_TAGS.sub("", line).strip() for line in lines[index + 1:] if line.strip())
        if not spoken:
            continue
        if not units or start >= (units[-1].number or 0) + UNIT_SECONDS:
            units.append(Unit("time", int(start), [], label=""))
        units[-1].blocks.append(Block(spoken))
        units[-1].label = f"{_clock(units[-1].number or 0)}–{_clock(end)}"
    if not units:
        raise ParseError("subtitle file holds no cues")
    return ParsedDocument("", units, "subtitles")
