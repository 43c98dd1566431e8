"""Tables in scans are rebuilt from their ruling lines: real OCR on a real table image and on drawn ones."""

from __future__ import annotations

import csv
import itertools
import re
from pathlib import Path

import pytest
from PIL import Image, ImageDraw, ImageFont

from ownllm.ingest.parsed import Block
from ownllm.ingest.parsers import parse
from ownllm.samples.generate import SampleCompany

REAL = Path(__file__).resolve().parents[3] / "shared" / "testdata" / "real-docs"
TABLE_PNG = REAL / "unstructured__table-multi-row-column-cells.png"
TABLE_PDF = REAL / "unstructured__table-multi-row-column-cells.pdf"
TABLE_TRUTH = REAL / "groundtruth" / "unstructured__table-multi-row-column-cells-actual.csv"


def _squash(text: str) -> str:
    return re.sub(r"\s+", "", text)


def _markdown_rows(markdown: str) -> list[list[str]]:
    rows = []
    for line in markdown.splitlines():
        if line.startswith("|---"):
            continue
        rows.append([cell.strip() for cell in line.strip().strip("|").split(" | ")])
    return rows


def _tables(data: bytes, kind: str) -> list[list[list[str]]]:
    document = parse(data, kind, f"scan.{kind}")
    return [_markdown_rows(b.text) for u in document.units for b in u.blocks if b.kind == "table"]


@pytest.mark.skipif(not TABLE_TRUTH.exists(), reason="shared test data (real table scan) is not present")
@pytest.mark.parametrize("path", [TABLE_PNG, TABLE_PDF], ids=["png", "image-only pdf"])
def test_real_scanned_table_with_merged_cells_matches_its_ground_truth_cell_for_cell(path: Path) -> None:
    with TABLE_TRUTH.open(newline="", encoding="utf-8") as handle:
        truth = [[_squash(cell) for cell in row] for row in csv.reader(handle)]
    width = max(len(row) for row in truth)
    truth = [row + [""] * (width - len(row)) for row in truth]
    truth = [row[:6] for row in truth]  # the CSV's header row ends with a stray separator
    tables = _tables(path.read_bytes(), path.suffix[1:])
    assert len(tables) == 1
    got = [[_squash(cell) for cell in row] for row in tables[0]]
    assert got == truth


def _table_between_paragraphs(page: Image.Image, folder: Path) -> tuple[list[Block], list[list[str]]]:
    """Parse a drawn page holding a caption, a table and a note; the blocks and the table's squashed cells."""
    path = folder / "page.png"
    page.save(path)
    blocks = [b for u in parse(path.read_bytes(), "png", path.name).units for b in u.blocks]
    assert [b.kind for b in blocks] == ["paragraph", "table", "paragraph"]
    return blocks, [[_squash(c) for c in row] for row in _markdown_rows(blocks[1].text)]


def _drawn_table(tilt: float) -> Image.Image:
    """A ruled table with a cell spanning two columns and one spanning two rows, printed and tilted."""
    page = Image.new("L", (1400, 900), 246)
    draw = ImageDraw.Draw(page)
    font = ImageFont.load_default(size=30)
    xs, ys = [100, 460, 760, 1060, 1300], [120, 200, 280, 360, 440]
    for y in ys:
        draw.line([(xs[0], y), (xs[-1], y)], fill=30, width=3)
    for x in xs:
        for top, bottom in itertools.pairwise(ys):
            spanned_columns = top == ys[0] and x == xs[3]  # "Open from" spans columns 3 and 4
            if not spanned_columns:
                draw.line([(x, top), (x, bottom)], fill=30, width=3)
    # "Amsterdam" spans rows 2 and 3: blank out the rule under it in the first column
    draw.line([(xs[0] + 3, ys[2]), (xs[1] - 3, ys[2])], fill=246, width=5)
    cells = {(0, 0): "City", (0, 1): "Phone", (0, 2): "Open from",
             (1, 0): "Amsterdam", (1, 1): "020 555 0101", (1, 2): "Monday", (1, 3): "Friday",
             (2, 1): "020 555 0199", (2, 2): "Tuesday", (2, 3): "Saturday",
             (3, 0): "Utrecht", (3, 1): "030 555 0142", (3, 2): "Wednesday", (3, 3): "Sunday"}
    for (r, c), text in cells.items():
        draw.text((xs[c] + 20, ys[r] + 22), text, fill=20, font=font)
    draw.text((100, 40), "Service desks in the Netherlands", fill=20, font=font)
    draw.text((100, 520), "Closed on public holidays.", fill=20, font=font)
    return page.rotate(tilt, resample=Image.Resampling.BICUBIC, fillcolor=246)


@pytest.mark.parametrize("tilt", [0.0, 1.2, -0.8])
def test_drawn_table_with_spans_is_rebuilt_even_when_the_scan_is_tilted(tilt: float, tmp_path: Path) -> None:
    blocks, rows = _table_between_paragraphs(_drawn_table(tilt), tmp_path)
    assert "Service desks" in blocks[0].text and "public holidays" in blocks[2].text
    assert rows == [["City", "Phone", "Openfrom", ""],
                    ["Amsterdam", "0205550101", "Monday", "Friday"],
                    ["", "0205550199", "Tuesday", "Saturday"],
                    ["Utrecht", "0305550142", "Wednesday", "Sunday"]]


def test_underline_frame_and_ruled_prose_columns_are_not_tables(tmp_path: Path) -> None:
    """Rules that are not tables: an underline, a frame around a notice, a page header and footer rule
    around a prose page in three justified columns."""
    page = Image.new("L", (1500, 1300), 255)
    draw = ImageDraw.Draw(page)
    font = ImageFont.load_default(size=28)
    draw.line([(80, 50), (1420, 50)], fill=0, width=3)  # page header rule
    draw.text((100, 80), "Important notice", fill=0, font=font)
    draw.line([(100, 118), (360, 118)], fill=0, width=3)  # underline
    draw.rectangle([(90, 160), (1100, 300)], outline=0, width=3)  # a frame: one cell
    draw.text((110, 180), "Keep the battery between 10 and 30 degrees.", fill=0, font=font)
    draw.text((110, 240), "Never charge it overnight unattended.", fill=0, font=font)
    prose = ("the rider checks the chain and the brakes before every ride and reports any noise to the "
             "service desk so that a technician can look at the bike within two working days")
    words = prose.split(" ")
    for column in range(3):
        for row in range(14):
            line, start = "", (row * 5 + column * 3) % len(words)
            while draw.textlength(line + words[start % len(words)] + " ", font=font) < 400:
                line += words[start % len(words)] + " "
                start += 1
            draw.text((100 + column * 450, 360 + row * 54), line.strip(), fill=0, font=font)
    draw.line([(80, 1200), (1420, 1200)], fill=0, width=3)  # page footer rule
    path = tmp_path / "notice.png"
    page.save(path)
    assert _tables(path.read_bytes(), "png") == []


def _open_table_page(tilt: float) -> Image.Image:
    """A report-style table: rules above, under the header and below; no vertical rules; one wrapped cell."""
    page = Image.new("L", (1400, 800), 250)
    draw = ImageDraw.Draw(page)
    font = ImageFont.load_default(size=30)
    draw.text((100, 40), "Table 3. Battery packs by model", fill=20, font=font)
    columns = [100, 420, 700, 980]
    rows = [["Model", "Capacity", "Cells", "Charger"],
            ["Aurel 300", "540 Wh", "40", "Standard"],
            ["Cinder Cargo", "900 Wh", "60", "Fast"],
            ["Keel 40", "250 Wh", "20", "Standard"]]
    draw.line([(90, 110), (1300, 110)], fill=20, width=3)
    y = 130
    for index, row in enumerate(rows):
        for x, text in zip(columns, row, strict=True):
            draw.text((x, y), text, fill=20, font=font)
        if index == 2:
            draw.text((columns[3], y + 44), "(two hours)", fill=20, font=font)  # the cell wraps
            y += 44
        y += 70
        if index == 0:
            draw.line([(90, y - 14), (1300, y - 14)], fill=20, width=2)
    draw.line([(90, y), (1300, y)], fill=20, width=3)
    draw.text((100, y + 40), "Capacities are nominal.", fill=20, font=font)
    return page.rotate(tilt, resample=Image.Resampling.BICUBIC, fillcolor=250)


@pytest.mark.parametrize("tilt", [0.0, 0.9])
def test_open_report_style_table_is_rebuilt_with_its_wrapped_cell(tilt: float, tmp_path: Path) -> None:
    _, rows = _table_between_paragraphs(_open_table_page(tilt), tmp_path)
    assert rows == [["Model", "Capacity", "Cells", "Charger"],
                    ["Aurel300", "540Wh", "40", "Standard"],
                    ["CinderCargo", "900Wh", "60", "Fast(twohours)"],
                    ["Keel40", "250Wh", "20", "Standard"]]


def test_sample_company_rate_card_scan_comes_out_as_a_table(sample_company: SampleCompany) -> None:
    path = sample_company.dropbox / "workshop_rates_scan.png"
    tables = _tables(path.read_bytes(), "png")
    assert len(tables) == 1
    assert [_squash(cell) for cell in tables[0][2]] == ["Batteryhealthcheck", "20min", "25EUR"]
