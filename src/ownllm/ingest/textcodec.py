"""Decode bytes of unknown encoding: BOMs first, then strict UTF-8, then charset detection.

Company exports come in GBK, Big5, Shift-JIS and UTF-16 as often as UTF-8; guessing
wrong produces mojibake that poisons retrieval, so the decoder says which encoding it used.
"""

from __future__ import annotations

import codecs
from dataclasses import dataclass

from charset_normalizer import from_bytes

_BOMS = [
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
]


@dataclass(frozen=True)
class Decoded:
    text: str
    encoding: str | None  # None: no encoding fit; text was decoded with replacement characters


def _utf16_without_bom(data: bytes) -> str | None:
    """UTF-16 text without a BOM shows NULs in every other byte for ASCII-heavy text."""
    sample = data[:4096]
    if len(sample) < 8:
        return None
    even, odd = sample[0::2].count(0), sample[1::2].count(0)
    half = len(sample) // 2
    if odd > 0.3 * half and even < 0.05 * half:
        return "utf-16-le"
    if even > 0.3 * half and odd < 0.05 * half:
        return "utf-16-be"
    return None


def decode_text(data: bytes) -> Decoded:
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            return Decoded(data.decode(encoding, errors="replace"), encoding)
    utf16 = _utf16_without_bom(data)
    if utf16 is not None:
        return Decoded(data[: len(data) // 2 * 2].decode(utf16, errors="replace"), utf16)
    try:
        return Decoded(data.decode("utf-8"), "utf-8")
    except UnicodeDecodeError as exc:
        if exc.start >= len(data) - 3 and exc.reason == "unexpected end of data":
            # a sample cut in the middle of a multi-byte character is still UTF-8
            return Decoded(data[: exc.start].decode("utf-8"), "utf-8")
    best = from_bytes(data).best()
    if best is not None:
        return Decoded(str(best), best.encoding)
    return Decoded(data.decode("utf-8", errors="replace"), None)
