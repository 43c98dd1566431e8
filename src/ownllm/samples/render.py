"""Render a `DocSpec` to real files of each format with the ordinary libraries.

Outputs are byte-for-byte deterministic (fixed metadata dates, fixed zip timestamps,
seeded noise), so regenerating the sample company yields the same hashes and a
re-ingest of it is recognised as unchanged.
"""

from __future__ import annotations

import html
import io
import random
import re
import zipfile
from datetime import datetime
from pathlib import Path
from xml.sax.saxutils import escape

from ownllm.samples.builder import DocSpec, SBlock

FIXED_DATE = datetime(2026, 10, 1, 9, 0, 0)
_ZIP_DATE = (2026, 10, 1, 9, 0, 0)
_CORE_DATES = re.compile(rb"(<dcterms:(?:created|modified)[^>]*>)[^<]*(</dcterms:(?:created|modified)>)")


def _rows_markdown(rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(rows[0]) + " |", "|" + "---|" * len(rows[0])]
    return "\n".join(lines + ["| " + " | ".join(r) + " |" for r in rows[1:]])


def _normalize_zip(path: Path) -> None:
    """Rewrite an OOXML zip with fixed timestamps so identical content gives identical bytes."""
    source = zipfile.ZipFile(io.BytesIO(path.read_bytes()))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            data = source.read(info.filename)
            if info.filename == "docProps/core.xml":
                data = _CORE_DATES.sub(rb"\g<1>2026-10-01T09:00:00Z\g<2>", data)
            target.writestr(zipfile.ZipInfo(info.filename, date_time=_ZIP_DATE), data, zipfile.ZIP_DEFLATED)
    path.write_bytes(out.getvalue())


# ---------------------------------------------------------------- PDF
def render_pdf(spec: DocSpec, path: Path) -> None:
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.platypus import PageBreak, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

    styles = getSampleStyleSheet()
    font, wrap = "Helvetica", None
    if spec.lang == "zh":
        pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
        font, wrap = "STSong-Light", "CJK"
    body = ParagraphStyle("body", parent=styles["BodyText"], fontName=font, fontSize=11, leading=16,
                          wordWrap=wrap, spaceAfter=8)
    heads = {lvl: ParagraphStyle(f"h{lvl}", parent=styles[f"Heading{lvl}"], fontName=font, wordWrap=wrap)
             for lvl in (1, 2, 3)}
    story: list = []
    for index, unit in enumerate(spec.units):
        if index:
            story.append(PageBreak())
        for block in unit.blocks:
            if block.kind == "heading":
                story.append(Paragraph(escape(block.text), heads[min(block.level, 3)]))
            elif block.kind in ("para", "notes"):
                story.append(Paragraph(escape(block.text), body))
            elif block.kind == "bullets":
                story.extend(Paragraph("• " + escape(item), body) for item in block.items)
            elif block.kind == "table":
                table = Table([[Paragraph(escape(cell), body) for cell in row] for row in block.rows])
                table.setStyle(TableStyle([("GRID", (0, 0), (-1, -1), 0.5, colors.grey)]))
                story += [table, Spacer(1, 10)]
    doc = SimpleDocTemplate(str(path), pagesize=A4, title=spec.title, author="Veltrano Mobility",
                            creator="ownllm sample generator", invariant=1)
    doc.build(story)


# ---------------------------------------------------------------- DOCX
def render_docx(spec: DocSpec, path: Path) -> None:
    from docx import Document

    doc = Document()
    props = doc.core_properties
    props.title, props.author, props.created, props.modified = spec.title, "Veltrano Mobility", FIXED_DATE, FIXED_DATE
    props.last_modified_by = "ownllm sample generator"
    for unit in spec.units:
        for block in unit.blocks:
            if block.kind == "heading":
                doc.add_heading(block.text, level=block.level - 1)
            elif block.kind in ("para", "notes"):
                doc.add_paragraph(block.text)
            elif block.kind == "bullets":
                for item in block.items:
                    doc.add_paragraph(item, style="List Bullet")
            elif block.kind == "table":
                table = doc.add_table(rows=len(block.rows), cols=len(block.rows[0]))
                table.style = "Table Grid"
                for r, row in enumerate(block.rows):
                    for col, cell in enumerate(row):
                        table.cell(r, col).text = cell
    doc.save(str(path))
    _normalize_zip(path)


# ---------------------------------------------------------------- PPTX
def render_pptx(spec: DocSpec, path: Path) -> None:
    from pptx import Presentation
    from pptx.util import Inches

    deck = Presentation()
    deck.core_properties.title = spec.title
    for unit in spec.units:
        slide = deck.slides.add_slide(deck.slide_layouts[5])  # title only
        slide.shapes.title.text = unit.title
        top = Inches(1.6)
        for block in unit.blocks:
            if block.kind == "notes":
                slide.notes_slide.notes_text_frame.text = block.text
            elif block.kind == "table":
                shape = slide.shapes.add_table(len(block.rows), len(block.rows[0]), Inches(0.5), top,
                                               Inches(9), Inches(0.4) * len(block.rows))
                for r, row in enumerate(block.rows):
                    for col, cell in enumerate(row):
                        shape.table.cell(r, col).text = cell
                top += Inches(0.4) * len(block.rows)
            else:
                lines = block.items if block.kind == "bullets" else [block.text]
                box = slide.shapes.add_textbox(Inches(0.7), top, Inches(8.6), Inches(0.5) * len(lines))
                box.text_frame.text = lines[0]
                for line in lines[1:]:
                    box.text_frame.add_paragraph().text = line
                top += Inches(0.5) * len(lines)
    deck.save(str(path))
    _normalize_zip(path)


# ---------------------------------------------------------------- XLSX
def render_xlsx(spec: DocSpec, path: Path) -> None:
    from openpyxl import Workbook

    book = Workbook()
    book.remove(book.active)
    book.properties.title, book.properties.creator = spec.title, "Veltrano Mobility"
    book.properties.created = book.properties.modified = FIXED_DATE
    for unit in spec.units:
        sheet = book.create_sheet(unit.title[:31])
        for block in unit.blocks:
            for row in block.rows:
                sheet.append(row)
    book.save(str(path))
    _normalize_zip(path)


# ---------------------------------------------------------------- HTML, Markdown, text
def _html_block(block: SBlock) -> str:
    if block.kind == "heading":
        return f"<h{block.level}>{html.escape(block.text)}</h{block.level}>"
    if block.kind == "bullets":
        return "<ul>" + "".join(f"<li>{html.escape(i)}</li>" for i in block.items) + "</ul>"
    if block.kind == "table":
        head, *rows = block.rows
        cells = "".join(f"<th>{html.escape(c)}</th>" for c in head)
        body = "".join("<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in r) + "</tr>" for r in rows)
        return f"<table><thead><tr>{cells}</tr></thead><tbody>{body}</tbody></table>"
    return f"<p>{html.escape(block.text)}</p>"


def render_html(spec: DocSpec, path: Path) -> None:
    nav = "首页 | 产品 | 服务 | 联系我们" if spec.lang == "zh" else "Home | Products | Service | Contact"
    content = "\n".join(_html_block(b) for unit in spec.units for b in unit.blocks)
    page = (
        f'<!DOCTYPE html>\n<html lang="{spec.lang}">\n<head><meta charset="utf-8">'
        f"<title>{html.escape(spec.title)}</title>"
        "<style>body{font-family:sans-serif} td,th{border:1px solid #999;padding:4px}</style>"
        f"<script>window.analytics = {{site: 'veltrano'}};</script></head>\n<body>\n"
        f"<header><nav>{nav}</nav></header>\n<main>\n{content}\n</main>\n"
        f"<footer>© 2026 Veltrano Mobility · Privacy · Cookies</footer>\n</body>\n</html>\n"
    )
    path.write_text(page, encoding="utf-8")


def render_markdown(spec: DocSpec, path: Path) -> None:
    parts = []
    for unit in spec.units:
        for block in unit.blocks:
            if block.kind == "heading":
                parts.append("#" * block.level + " " + block.text)
            elif block.kind == "bullets":
                parts.append("\n".join(f"- {item}" for item in block.items))
            elif block.kind == "table":
                parts.append(_rows_markdown(block.rows))
            else:
                parts.append(block.text)
    path.write_text("\n\n".join(parts) + "\n", encoding="utf-8")


def render_text(spec: DocSpec, path: Path) -> None:
    """Chinese text exports are GB18030-encoded, as they often are in practice."""
    text = "\n\n".join(b.text for unit in spec.units for b in unit.blocks) + "\n"
    path.write_bytes(text.encode("gb18030" if spec.lang == "zh" else "utf-8"))


# ---------------------------------------------------------------- scanned image
def _draw_ruled_table(draw, rows: list[list[str]], font, left: int, top: int) -> int:
    """A table with a rule around every cell, as printed rate cards and forms have; returns its bottom."""
    widths = [max(int(draw.textlength(row[c], font=font)) for row in rows) + 48 for c in range(len(rows[0]))]
    height = 72
    xs = [left + sum(widths[:c]) for c in range(len(widths) + 1)]
    for r, row in enumerate(rows):
        for c, cell in enumerate(row):
            draw.text((xs[c] + 24, top + r * height + 18), cell, fill=30, font=font)
    bottom = top + len(rows) * height
    for r in range(len(rows) + 1):
        draw.line([(xs[0], top + r * height), (xs[-1], top + r * height)], fill=40, width=3)
    for x in xs:
        draw.line([(x, top), (x, bottom)], fill=40, width=3)
    return bottom


def render_scan_png(spec: DocSpec, path: Path) -> None:
    """A page of text made to look scanned: grey paper, a slight tilt, speckle noise."""
    from PIL import Image, ImageDraw, ImageFont

    rng = random.Random(f"scan:{spec.name}")
    page = Image.new("L", (1240, 1754), 244)
    draw = ImageDraw.Draw(page)
    font = ImageFont.load_default(size=34)
    y = 160
    for unit in spec.units:
        for block in unit.blocks:
            if block.kind == "table":
                y = _draw_ruled_table(draw, block.rows, font, 120, y) + 40
            else:
                draw.text((120, y), block.text, fill=30, font=font)
                y += 78
    for _ in range(6000):
        x, yy = rng.randrange(1240), rng.randrange(1754)
        page.putpixel((x, yy), rng.randrange(120, 230))
    page = page.rotate(0.7, resample=Image.Resampling.BICUBIC, fillcolor=244)
    page.save(path, format="PNG", optimize=False)


# ---------------------------------------------------------------- meeting recording
def render_speech_m4a(spec: DocSpec, path: Path) -> None:
    """A meeting recording: the paragraphs spoken by an offline Mandarin voice, saved as AAC in M4A."""
    from ownllm.samples.speech import MandarinVoice, write_m4a

    if spec.lang != "zh":
        raise ValueError(f"{spec.name}: only Mandarin recordings can be synthesized")
    script = "".join(b.text for unit in spec.units for b in unit.blocks)
    write_m4a(MandarinVoice().speak(script), path)


RENDERERS = {
    "pdf": render_pdf, "docx": render_docx, "pptx": render_pptx, "xlsx": render_xlsx, "html": render_html,
    "markdown": render_markdown, "text": render_text, "png": render_scan_png, "m4a": render_speech_m4a,
}
