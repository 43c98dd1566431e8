"""Type detection from bytes and the slice's parsers on small hand-made inputs."""

from __future__ import annotations

import io
from itertools import pairwise

import numpy as np
import pytest
from openpyxl import Workbook
from PIL import Image

from ownllm.ingest.chunk import chunk_document
from ownllm.ingest.detect import detect_type
from ownllm.ingest.parsed import (
    Block,
    ParsedDocument,
    ParseError,
    Unit,
    is_separator_row,
    markdown_row_cells,
    table_to_markdown,
)
from ownllm.ingest.parsers import parse
from ownllm.ingest.parsers.html import parse_html
from ownllm.ingest.parsers.options import ParseOptions
from ownllm.ingest.parsers.tabular import ROWS_PER_BLOCK
from ownllm.ingest.parsers.text import parse_markdown, parse_text
from ownllm.ingest.textcodec import decode_text


@pytest.mark.parametrize(
    ("data", "name", "expected"),
    [
        (b"%PDF-1.7\n...", "x.pdf", "pdf"),
        (b"\x89PNG\r\n\x1a\n....", "scan.png", "png"),
        (b"<!DOCTYPE html><html><body>hi</body></html>", "page.htm", "html"),
        (b"# Title\n\ntext", "notes.md", "markdown"),
        (b"plain words", "a.txt", "text"),
        (b"", "empty.txt", "empty"),
    ],
)
def test_types_come_from_the_bytes(data: bytes, name: str, expected: str) -> None:
    assert detect_type(data, name).type == expected


def test_a_renamed_file_is_detected_and_the_mismatch_reported() -> None:
    detection = detect_type(b"\x89PNG\r\n\x1a\n....", "report.pdf")
    assert detection.type == "png"
    assert detection.note == "name says pdf but the content is png"


@pytest.mark.parametrize("encoding", ["utf-8", "utf-16", "gb18030"])
def test_chinese_text_decodes_in_common_encodings(encoding: str) -> None:
    text = "全职员工每年享有27天带薪年假。公司每月发放餐补600元，并每年安排一次免费体检。" * 3
    assert decode_text(text.encode(encoding)).text.lstrip("\ufeff") == text


def test_markdown_keeps_code_fences_verbatim() -> None:
    source = b"# Top\n\nintro\n\n```html\n<b>not markup</b>\n\n# not a heading\n```\n"
    doc = parse_markdown(source, "c.md", ParseOptions())
    kinds = [(b.kind, b.text.splitlines()[0]) for b in doc.units[0].blocks]
    assert kinds == [("heading", "Top"), ("paragraph", "intro"), ("code", "```html")]
    assert "# not a heading" in doc.units[0].blocks[2].text


def test_html_drops_scripts_and_page_chrome_but_keeps_tables() -> None:
    page = (b"<html><head><title>T</title><script>var secret=1</script></head><body><nav>Home</nav>"
            b"<h1>Prices</h1><p>Intro text.</p><table><tr><th>Model</th><th>Price</th></tr>"
            b"<tr><td>X1</td><td>9 USD</td></tr></table><footer>cookies</footer></body></html>")
    doc = parse_html(page, "p.html", ParseOptions())
    text = "\n".join(b.text for b in doc.units[0].blocks)
    assert doc.title == "T"
    assert "| X1 | 9 USD |" in text
    assert "secret" not in text and "cookies" not in text and "Home" not in text


def test_text_parser_splits_paragraphs() -> None:
    doc = parse_text(b"first para\nsame para\n\nsecond para", "t.txt", ParseOptions())
    assert [b.text for b in doc.units[0].blocks] == ["first para\nsame para", "second para"]


def test_corrupt_pdf_raises_a_clear_error() -> None:
    with pytest.raises(ParseError, match="PDF"):
        parse(b"%PDF-1.4\n1 0 obj << /Type /Catalog >> garbage", "pdf", "broken.pdf")


def test_chunks_carry_exact_spans_and_never_cross_pages() -> None:
    long_para = " ".join(f"Sentence number {i} talks about the VM-A300 battery." for i in range(60))
    doc = ParsedDocument("t", [Unit("page", 1, [Block("Intro", "heading", 1), Block(long_para)]),
                               Unit("page", 2, [Block("第二页的内容。" * 5)])], "test")
    full_text, chunks = chunk_document(doc, max_tokens=80, overlap_tokens=15)
    assert len(chunks) > 3
    for chunk in chunks:
        assert full_text[chunk.char_start:chunk.char_end] == chunk.text
        assert chunk.n_tokens <= 80 + 15
    assert {c.unit_number for c in chunks} == {1, 2}
    assert all("第二页" not in c.text for c in chunks if c.unit_number == 1)
    assert chunks[0].heading == "Intro"


@pytest.mark.parametrize(
    ("size", "colour", "noise"),
    [((800, 600), 255, 0), ((800, 600), 250, 2), ((12, 400), 0, 0)],
    ids=["white page", "faint paper grain", "thin strip"],
)
def test_near_empty_images_are_refused_before_ocr(size: tuple[int, int], colour: int, noise: int) -> None:
    pixels = np.full(size[::-1], colour, dtype=np.int16)
    pixels += np.random.default_rng(0).integers(-noise, noise + 1, pixels.shape, dtype=np.int16)
    buffer = io.BytesIO()
    Image.fromarray(pixels.clip(0, 255).astype(np.uint8)).save(buffer, format="PNG")
    with pytest.raises(ParseError, match="blank or too small"):
        parse(buffer.getvalue(), "png", "blank.png")


def test_a_huge_sheet_is_cut_into_row_groups_that_each_repeat_the_header() -> None:
    header = ["Order", "Customer", "Amount"]
    body = [[f"A{number:04d}", f"customer {number}", number * 3] for number in range(ROWS_PER_BLOCK * 3 + 7)]
    book = Workbook()
    sheet = book.active
    sheet.title = "Orders"
    for row in [header, *body]:
        sheet.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    document = parse(buffer.getvalue(), "xlsx", "orders.xlsx")

    (unit,) = document.units
    assert unit.kind == "sheet"
    as_text = [[str(cell) for cell in row] for row in body]
    groups = [as_text[start:start + ROWS_PER_BLOCK] for start in range(0, 4 * ROWS_PER_BLOCK, ROWS_PER_BLOCK)]
    assert [b.text for b in unit.blocks if b.kind == "table"] == [table_to_markdown([header, *g]) for g in groups]


def _sentences_of(chunk_text: str) -> list[str]:
    return [s.strip() + "。" for s in chunk_text.split("。") if s.strip()]


def test_chunk_overlap_is_configurable_and_chinese_splits_at_sentence_ends() -> None:
    paragraph = "".join(f"第{i}条规定员工每年享有带薪年假。" for i in range(40))
    doc = ParsedDocument("t", [Unit("page", 1, [Block(paragraph)])], "test")

    _, without = chunk_document(doc, max_tokens=60, overlap_tokens=0)
    _, with_overlap = chunk_document(doc, max_tokens=60, overlap_tokens=20)

    for chunks in (without, with_overlap):
        assert len(chunks) > 3
        assert all(c.text.endswith("。") for c in chunks)  # never cut inside a sentence
    sentences_without = [s for c in without for s in _sentences_of(c.text)]
    assert len(sentences_without) == len(set(sentences_without)) == 40
    for before, after in pairwise(with_overlap):
        assert _sentences_of(before.text)[-1] == _sentences_of(after.text)[0]


def test_a_cell_holding_a_pipe_reads_back_as_one_cell() -> None:
    written = table_to_markdown([["Plan", "Channels"], ["Basic", "email|phone"], ["Pro", "chat"]]).splitlines()
    assert [markdown_row_cells(line) for line in written] == [
        ["Plan", "Channels"], ["---", "---"], ["Basic", "email|phone"], ["Pro", "chat"]]
    assert markdown_row_cells("Plan | Channels") is None  # prose with a pipe is not a row
    assert markdown_row_cells("| Pro | chat") == ["Pro", "chat"]  # the closing pipe is optional
    # so is the separator row's, written the same way
    assert is_separator_row("|---|:---:|") and is_separator_row("| --- | ---") and is_separator_row("|---")
    assert not is_separator_row("| Pro | chat |") and not is_separator_row("|--|") and not is_separator_row("---")


def test_a_table_that_fits_stays_whole_in_one_chunk() -> None:
    table = table_to_markdown([["Model", "Range"], *[[f"VM-{i}", f"{40 + i} km"] for i in range(8)]])
    prose = [Block(f"Paragraph {i} explains the range tests run in winter conditions.") for i in range(12)]
    doc = ParsedDocument("t", [Unit("page", 1, [*prose[:6], Block(table, "table"), *prose[6:]])], "test")
    _, chunks = chunk_document(doc, max_tokens=120, overlap_tokens=10)
    holding = [c for c in chunks if "VM-0" in c.text or "VM-7" in c.text]
    assert len(holding) == 1 and table in holding[0].text
