"""Renderers for the formats a company's files also come in: RTF, e-mail (.eml) and CSV.

Hand-written with the standard library, deterministic (fixed dates, fixed boundaries), so the
sample company's hashes stay stable across runs.
"""

from __future__ import annotations

import csv
import hashlib
import io
from email.message import EmailMessage
from email.policy import SMTP
from pathlib import Path

from ownllm.samples.builder import DocSpec


def _rtf_escape(text: str) -> str:
    out = []
    for ch in text:
        if ch in "\\{}":
            out.append("\\" + ch)
        elif ord(ch) < 128:
            out.append(ch)
        else:  # RTF's \uN takes a signed 16-bit number, then one fallback character
            code = ord(ch)
            out.append(f"\\u{code - 65536 if code > 32767 else code}?")
    return "".join(out)


def render_rtf(spec: DocSpec, path: Path) -> None:
    """Paragraphs, bold headings and real RTF tables (\\trowd … \\cell … \\row), as Word writes them."""
    parts = [r"{\rtf1\ansi\ansicpg1252\deff0{\fonttbl{\f0 Arial;}}\f0\fs22"]
    for unit in spec.units:
        for block in unit.blocks:
            if block.kind == "heading":
                parts.append(r"{\pard\b\fs28 " + _rtf_escape(block.text) + r"\par}")
            elif block.kind == "table":
                for row in block.rows:
                    cells = "".join(rf"\cellx{2400 * (i + 1)}" for i in range(len(row)))
                    body = "".join(r"\pard\intbl " + _rtf_escape(cell) + r"\cell" for cell in row)
                    parts.append(r"\trowd" + cells + body + r"\row")
                parts.append(r"\pard\par")
            elif block.kind == "bullets":
                parts.extend(r"{\pard \u8226? " + _rtf_escape(item) + r"\par}" for item in block.items)
            else:
                parts.append(r"{\pard " + _rtf_escape(block.text) + r"\par}")
    parts.append("}")
    path.write_text("\n".join(parts), encoding="ascii")


def render_eml(spec: DocSpec, path: Path) -> None:
    """An internal announcement as a plain-text e-mail; the first heading is the subject."""
    message = EmailMessage(policy=SMTP)
    message["From"] = "Veltrano Mobility <announce@veltrano.example>"
    message["To"] = "all-staff@veltrano.example"
    message["Subject"] = spec.title
    message["Date"] = "Thu, 01 Oct 2026 09:00:00 +0200"
    message["Message-ID"] = f"<{hashlib.sha256(path.name.encode()).hexdigest()[:16]}@veltrano.example>"
    lines = []
    for unit in spec.units:
        for block in unit.blocks:
            if block.kind == "heading" and block.text == spec.title:
                continue
            if block.kind == "bullets":
                lines.extend(f"- {item}" for item in block.items)
            elif block.kind == "table":
                lines.extend(" | ".join(row) for row in block.rows)
            else:
                lines.append(block.text)
            lines.append("")
    message.set_content("\n".join(lines), charset="utf-8", cte="8bit")
    path.write_bytes(bytes(message))


def render_csv(spec: DocSpec, path: Path) -> None:
    """The document's one table as CSV (a spreadsheet export)."""
    rows = [row for unit in spec.units for block in unit.blocks if block.kind == "table" for row in block.rows]
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows(rows)
    path.write_text(buffer.getvalue(), encoding="utf-8")


MORE_RENDERERS = {"rtf": render_rtf, "eml": render_eml, "csv": render_csv}
