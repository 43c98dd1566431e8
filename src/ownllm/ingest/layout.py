"""Reading order from positioned text: columns found from the page's own whitespace, not per file.

Input is text lines (or line segments) with boxes, from a PDF text layer or from OCR. A column
gutter is a vertical strip that no narrow line crosses, with prose on both sides side by side
(at least three lines each, of a dozen characters or more: table cells and labels do not make
columns). Lines that cross a gutter (titles, running heads, full-width figures and footnotes)
split the page into bands; inside a band the columns are read one after the other, left to right
(right to left when the page is mostly Arabic or Hebrew), each top to bottom. A page without a
gutter is read top to bottom, left to right. Lines are then grouped into paragraphs where the
vertical gap opens up.
"""

from __future__ import annotations

import itertools
import re
import statistics
from dataclasses import dataclass

_RTL = re.compile(r"[\u0590-\u08ff\ufb1d-\ufdff\ufe70-\ufeff]")
# Chinese and Japanese run without spaces (Korean spaces its words, so Hangul is not here)
_CJK_END = re.compile(r"[\u3000-\u303f\u3040-\u30ff\u3400-\u9fff\uff00-\uffef]$")
_CJK_START = re.compile(r"^[\u3000-\u303f\u3040-\u30ff\u3400-\u9fff\uff00-\uffef]")
MIN_COLUMN_LINES = 3
_SENTENCE_END = set(".!?:。！？：")
MIN_PROSE_CHARS = 12


@dataclass(frozen=True)
class Line:
    """A line of text and its box, y growing downwards (top < bottom)."""

    text: str
    left: float
    top: float
    right: float
    bottom: float
    order: int = 0  # position in the source's own drawing order (a PDF content stream), when known

    @property
    def height(self) -> float:
        return max(0.1, self.bottom - self.top)

    @property
    def center_x(self) -> float:
        return (self.left + self.right) / 2

    @property
    def center_y(self) -> float:
        return (self.top + self.bottom) / 2


def merge_segments(lines: list[Line]) -> list[Line]:
    """Join pieces of one visual line that a text layer split (font changes, kerning, one rect per glyph):
    pieces are grouped into rows by vertical overlap, then joined left to right where they touch or are a
    space apart. Pieces of one row far apart (two columns, table cells) stay separate lines."""
    rows = _rows(lines)
    out: list[Line] = []
    for row in rows:
        rtl = is_rtl_text(" ".join(piece.text for piece in row))
        if rtl:  # an Arabic or Hebrew line is read from the right, in the source's own order where it has one
            row = sorted(row, key=lambda item: item.order if item.order > 0 else -item.right)
        current, previous = row[0], row[0]
        for piece in row[1:]:
            shared = min(current.right, piece.right) - max(current.left, piece.left)
            if shared > 0.8 * (piece.right - piece.left) and piece.text.strip() in current.text:
                continue  # the same glyphs drawn again over themselves, slightly shifted (fake bold)
            gap = current.left - piece.right if rtl else piece.left - current.right
            if -0.5 * piece.height < gap < 0.45 * max(current.height, piece.height):
                # pieces next to each other in the source's own order carry its spacing (pdfium ends a word's
                # last piece with a space); otherwise the gap decides
                follows = piece.order == previous.order + 1 and piece.order > 0
                joiner = "" if follows or gap < 0.15 * piece.height or current.text.endswith(" ") or (
                    _CJK_END.search(current.text) and _CJK_START.search(piece.text)) else " "
                previous = piece
                current = Line(current.text + joiner + piece.text, min(current.left, piece.left),
                               min(current.top, piece.top), max(current.right, piece.right),
                               max(current.bottom, piece.bottom), min(current.order, piece.order))
            else:
                out.append(current)
                current = previous = piece
        out.append(current)
    return out


def _rows(lines: list[Line]) -> list[list[Line]]:
    """Lines grouped into visual rows, rows top to bottom, each row left to right (right to left for a row
    that is mostly Arabic or Hebrew).

    A piece joins a row when it overlaps the row's tallest piece vertically by half its own height: a
    low comma or a flat "一" has a box far from the line's centre but inside its band. Sorting by raw
    `top` instead would put a slightly higher glyph of one row ahead of its left neighbours.
    """
    rows: list[tuple[list[Line], list[Line]]] = []  # (members, [tallest member])
    for piece in sorted(lines, key=lambda item: -item.height):
        for members, tallest in rows:
            band = tallest[0]
            overlap = min(band.bottom, piece.bottom) - max(band.top, piece.top)
            if overlap >= 0.5 * piece.height and abs(band.center_y - piece.center_y) < 0.7 * band.height:
                members.append(piece)
                break
        else:
            rows.append(([piece], [piece]))
    ordered = sorted((members for members, _ in rows), key=lambda members: members[0].center_y)
    for members in ordered:
        rtl = is_rtl_text(" ".join(item.text for item in members))
        members.sort(key=lambda item: -item.right if rtl else item.left)
    return ordered


def top_to_bottom(lines: list[Line]) -> list[Line]:
    return [line for row in _rows(lines) for line in row]


def _gutters(lines: list[Line]) -> list[tuple[float, float]]:
    """Vertical strips between side-by-side prose columns."""
    left, right = min(line.left for line in lines), max(line.right for line in lines)
    width = right - left
    if width <= 0:
        return []
    narrow = [line for line in lines if line.right - line.left < 0.6 * width]
    if len(narrow) < 2 * (MIN_COLUMN_LINES - 1):
        return []
    step = max(0.5, width / 2000)
    bins = int(width / step) + 1
    cover = [0] * bins
    for line in narrow:
        for index in range(int((line.left - left) / step), min(bins, int((line.right - left) / step) + 1)):
            cover[index] += 1
    tolerance = len(narrow) // 10  # headings, page numbers and footers may cross a gutter
    minimum = max(4.0, 0.012 * width)
    gutters, start = [], None
    for index, count in enumerate([*cover, tolerance + 1]):
        if count <= tolerance and start is None:
            start = index
        elif count > tolerance and start is not None:
            g0, g1 = left + start * step, left + index * step
            if g1 - g0 >= minimum and g0 > left + step and g1 < right - step and _side_by_side(narrow, g0, g1):
                gutters.append((g0, g1))
            start = None
    return gutters


def _side_by_side(lines: list[Line], g0: float, g1: float) -> bool:
    lefts = [line for line in lines if line.right <= g0 + 1]
    rights = [line for line in lines if line.left >= g1 - 1]
    # a producer that wrote one side entirely before the other (text boxes, columns) says so with fewer lines
    needed = MIN_COLUMN_LINES - 1 if _drawn_apart(lefts, rights) else MIN_COLUMN_LINES
    if len(lefts) < needed or len(rights) < needed:
        return False
    if _prose_share(lefts) < 0.5 or _prose_share(rights) < 0.5:
        return False  # mostly short cells: a table or a form, not columns of prose
    top = max(min(x.top for x in lefts), min(x.top for x in rights))
    bottom = min(max(x.bottom for x in lefts), max(x.bottom for x in rights))
    shorter = min(max(x.bottom for x in side) - min(x.top for x in side) for side in (lefts, rights))
    return bottom - top >= 0.25 * shorter


def _prose_share(lines: list[Line]) -> float:
    """Share of the characters that sit in lines of prose length (margin numbers and labels weigh little)."""
    total = sum(len(line.text) for line in lines)
    return sum(len(line.text) for line in lines if len(line.text) >= MIN_PROSE_CHARS) / total if total else 0.0


def _drawn_apart(first: list[Line], second: list[Line]) -> bool:
    if not first or not second:
        return False
    a, b = [line.order for line in first], [line.order for line in second]
    return max(a) < min(b) or max(b) < min(a)


def is_rtl_text(text: str) -> bool:
    letters = sum(1 for ch in text if ch.isalpha())
    return letters > 0 and len(_RTL.findall(text)) > 0.5 * letters


def reading_order(lines: list[Line]) -> list[list[Line]]:
    """Columns of lines in reading order: each inner list is read top to bottom."""
    if not lines:
        return []
    gutters = _gutters(lines)
    if not gutters:
        return [top_to_bottom(lines)]
    rtl = is_rtl_text(" ".join(line.text for line in lines))
    # columns meet in the middle of each gutter, so every line (even one set inside a gutter) has a column
    bounds = [float("-inf"), *((g0 + g1) / 2 for g0, g1 in gutters), float("inf")]
    columns = list(itertools.pairwise(bounds))
    crossing = [line for line in lines if any(line.left < g0 - 1 and line.right > g1 + 1 for g0, g1 in gutters)]
    crossing_ids = {id(line) for line in crossing}
    in_columns = [line for line in lines if id(line) not in crossing_ids]
    # a caption or pull quote set between columns that keep running beside it floats: it does not end the columns
    floating = {id(line) for line in crossing if _beside_both_sides(line, in_columns, gutters)}
    spanning = sorted((line for line in crossing if id(line) not in floating), key=lambda line: line.top)
    edges = [float("-inf"), *(line.center_y for line in spanning), float("inf")]
    order: list[list[Line]] = []
    for band in range(len(edges) - 1):
        if band > 0:
            order.append([spanning[band - 1]])
        inside = [line for line in in_columns if edges[band] <= line.center_y < edges[band + 1]]
        per_column = [top_to_bottom([line for line in inside if lo <= line.center_x < hi]) for lo, hi in columns]
        order += [column for column in (reversed(per_column) if rtl else per_column) if column]
        floats = [line for line in crossing if id(line) in floating and edges[band] <= line.center_y < edges[band + 1]]
        if floats:
            order.append(top_to_bottom(floats))
    return order


def _beside_both_sides(line: Line, others: list[Line], gutters: list[tuple[float, float]]) -> bool:
    level = [other for other in others if other.top < line.bottom and other.bottom > line.top]
    return any(any(other.right <= g1 + 1 for other in level) and any(other.left >= g0 - 1 for other in level)
               for g0, g1 in gutters if line.left < g0 - 1 and line.right > g1 + 1)


def bands(lines: list[Line], boxes: list[tuple[float, float, float, float]]) -> list[list[Line]]:
    """Lines cut into the stretches before, between and after some boxes (tables, figures), boxes sorted by top:
    band i holds the lines read before box i. Lines inside a box are left out; a line beside a box is read after
    it."""
    out: list[list[Line]] = [[] for _ in range(len(boxes) + 1)]
    for line in lines:
        if any(x0 - 1 <= line.center_x <= x1 + 1 and top - 1 <= line.center_y <= bottom + 1
               for x0, top, x1, bottom in boxes):
            continue
        out[sum(1 for _, top, _, _ in boxes if top <= line.center_y)].append(line)
    return out


def paragraphs(column: list[Line]) -> list[str]:
    """The text of each paragraph of a column (see `paragraph_lines`)."""
    return [text for text in (paragraph_text(lines) for lines in paragraph_lines(column)) if text.strip()]


def paragraph_lines(column: list[Line]) -> list[list[Line]]:
    """Consecutive lines grouped into paragraphs. A new one starts where typesetting shows it: the vertical
    gap opens up beyond the usual line spacing, the type size changes (a heading and its body), or the
    previous line ended a sentence well short of the column's right edge (a paragraph's last line)."""
    if not column:
        return []
    # the usual distance from one row to the next (pieces side by side in one row do not count)
    steps = [b.top - a.top for a, b in itertools.pairwise(column) if b.top - a.top > 0.5 * a.height]
    spacing = statistics.median(steps or [column[0].height * 1.2])
    right = statistics.median(line.right for line in column)
    width = max(1.0, right - min(line.left for line in column))
    out, current = [], [column[0]]
    for previous, line in itertools.pairwise(column):
        step = line.top - previous.top
        new_row = step > 0.5 * previous.height
        gap = step > 1.6 * max(spacing, previous.height) or (new_row and step > 1.35 * spacing)
        resized = new_row and abs(line.height - previous.height) > 0.2 * max(line.height, previous.height)
        ended = (new_row and previous.text.rstrip()[-1:] in _SENTENCE_END
                 and right - previous.right > 0.25 * width)
        if gap or resized or ended:
            out.append(current)
            current = []
        current.append(line)
    out.append(current)
    return out


def heading_level(lines: list[Line], body_height: float) -> int:
    """1 or 2 when a paragraph is set as a heading (one short row in larger type), else 0."""
    text = " ".join(line.text for line in lines).strip()
    if not text or len(text) > 150 or text[-1] in ".,;" or len({round(line.top) for line in lines}) > 2:
        return 0
    height = statistics.median(line.height for line in lines)
    if height >= 1.5 * body_height:
        return 1
    return 2 if height >= 1.15 * body_height else 0


def paragraph_text(lines: list[Line]) -> str:
    text = ""
    for line in lines:
        piece = line.text.strip()
        if not text:
            text = piece
        elif text.endswith("-") and piece[:1].islower():
            text = text[:-1] + piece  # a word hyphenated across lines
        elif _CJK_END.search(text) and _CJK_START.search(piece):
            text += piece  # Chinese and Japanese lines wrap without a space
        else:
            text += " " + piece
    return text
