"""Tables in scanned pages: rebuild the grid from its ruling lines, then put OCR'd text in its cells.

OCR alone returns words with positions; read line by line, a table's header cells that
wrap onto two lines interleave with their neighbours and the table becomes prose. Most
tables in scanned business documents are ruled, so the grid is recovered from the
image itself: long dark runs are rule segments, a vertical rule counts only when it
meets horizontal rules at both ends (a letter's stroke never does), and the rules
connected to each other form one table. A missing rule between two neighbouring cells
means a merged cell; its text goes into the top-left cell of the span and the others
stay empty, as spreadsheets and CSV exports write merged cells.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass
class Segment:
    """A rule: `at` is its y (horizontal) or x (vertical); it runs from `start` to `end` along the other axis."""

    at: float
    start: int
    end: int
    rows: int = 1

    def overlap(self, low: float, high: float) -> float:
        return max(0.0, min(self.end, high) - max(self.start, low))


@dataclass
class TextBox:
    text: str
    left: float
    top: float
    right: float
    bottom: float

    @property
    def center(self) -> tuple[float, float]:
        return (self.left + self.right) / 2, (self.top + self.bottom) / 2


@dataclass
class TableGrid:
    xs: list[float]  # column boundaries, left to right
    ys: list[float]  # row boundaries, top to bottom
    region: dict[tuple[int, int], tuple[int, int]] = field(default_factory=dict)  # cell → top-left cell of its span

    @property
    def bounds(self) -> tuple[float, float, float, float]:
        return self.xs[0], self.ys[0], self.xs[-1], self.ys[-1]

    def contains(self, x: float, y: float) -> bool:
        left, top, right, bottom = self.bounds
        return left <= x <= right and top <= y <= bottom

    def cell_of(self, x: float, y: float) -> tuple[int, int]:
        column = min(max(int(np.searchsorted(self.xs, x)) - 1, 0), len(self.xs) - 2)
        row = min(max(int(np.searchsorted(self.ys, y)) - 1, 0), len(self.ys) - 2)
        return self.region.get((row, column), (row, column))


def _runs(mask: np.ndarray, min_length: int) -> list[tuple[int, int, int]]:
    """(line index, start, end) of every run of True at least `min_length` long, line by line."""
    padded = np.zeros((mask.shape[0], mask.shape[1] + 2), dtype=np.int8)
    padded[:, 1:-1] = mask
    edges = np.diff(padded, axis=1)
    starts, ends = np.nonzero(edges == 1), np.nonzero(edges == -1)
    runs = []
    for line, start, end in zip(starts[0], starts[1], ends[1], strict=True):
        if end - start >= min_length:
            runs.append((int(line), int(start), int(end)))
    return runs


def _segments(mask: np.ndarray, min_length: int, max_thickness: float) -> list[Segment]:
    """Long runs on neighbouring lines that overlap are one (thick) rule; a filled block is not a rule."""
    open_segments: list[Segment] = []
    last_line: dict[int, int] = {}
    for line, start, end in sorted(_runs(mask, min_length)):
        for index, segment in enumerate(open_segments):
            neighbour = line - last_line[index] <= 2
            if neighbour and min(segment.end, end) - max(segment.start, start) > 0.5 * min(end - start,
                                                                                           segment.end - segment.start):
                segment.at = (segment.at * segment.rows + line) / (segment.rows + 1)
                segment.rows += 1
                segment.start, segment.end = min(segment.start, start), max(segment.end, end)
                last_line[index] = line
                break
        else:
            open_segments.append(Segment(float(line), start, end))
            last_line[len(open_segments) - 1] = line
    return [s for s in open_segments if s.rows <= max_thickness]


def _cluster(values: list[float], tolerance: float) -> list[float]:
    centres: list[list[float]] = []
    for value in sorted(values):
        if centres and value - centres[-1][-1] <= tolerance:
            centres[-1].append(value)
        else:
            centres.append([value])
    return [sum(group) / len(group) for group in centres]


def _touches(h: Segment, v: Segment, tolerance: float) -> bool:
    return h.start - tolerance <= v.at <= h.end + tolerance and v.start - tolerance <= h.at <= v.end + tolerance


def _is_rule(v: Segment, horizontal: list[Segment], tolerance: float, text_height: float) -> bool:
    """A vertical run is a rule when it ends on horizontal rules (a letter's stroke does not);
    a long one ending on a rule at one end only survives a gap in a worn scan."""
    ends = [any(h.start - tolerance <= v.at <= h.end + tolerance and abs(h.at - end) <= tolerance
                for h in horizontal) for end in (v.start, v.end)]
    return all(ends) or (any(ends) and v.end - v.start > 2 * text_height)


def _components(horizontal: list[Segment], vertical: list[Segment], tolerance: float) -> list[tuple[list, list]]:
    """Rules that touch each other, grouped: one group per table."""
    parent = list(range(len(horizontal) + len(vertical)))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for hi, h in enumerate(horizontal):
        for vi, v in enumerate(vertical):
            if _touches(h, v, tolerance):
                parent[find(hi)] = find(len(horizontal) + vi)
    groups: dict[int, tuple[list, list]] = {}
    for hi, h in enumerate(horizontal):
        groups.setdefault(find(hi), ([], []))[0].append(h)
    for vi, v in enumerate(vertical):
        groups.setdefault(find(len(horizontal) + vi), ([], []))[1].append(v)
    return list(groups.values())


def _grid(horizontal: list[Segment], vertical: list[Segment], tolerance: float) -> TableGrid | None:
    xs = _cluster([v.at for v in vertical] + [min(h.start for h in horizontal), max(h.end for h in horizontal)],
                  tolerance)
    ys = _cluster([h.at for h in horizontal] + [min(v.start for v in vertical), max(v.end for v in vertical)],
                  tolerance)
    if len(xs) < 3 or len(ys) < 3:
        return None  # a single box around a paragraph is a frame, not a table

    def vertical_rule(x: float, low: float, high: float) -> bool:
        if x in (xs[0], xs[-1]):
            return True
        return any(abs(v.at - x) <= tolerance and v.overlap(low, high) >= 0.5 * (high - low) for v in vertical)

    def horizontal_rule(y: float, low: float, high: float) -> bool:
        if y in (ys[0], ys[-1]):
            return True
        return any(abs(h.at - y) <= tolerance and h.overlap(low, high) >= 0.5 * (high - low) for h in horizontal)

    rows, columns = len(ys) - 1, len(xs) - 1
    parent = {(r, c): (r, c) for r in range(rows) for c in range(columns)}

    def find(cell: tuple[int, int]) -> tuple[int, int]:
        while parent[cell] != cell:
            cell = parent[cell]
        return cell

    def join(a: tuple[int, int], b: tuple[int, int]) -> None:
        first, second = sorted((find(a), find(b)))
        parent[second] = first  # the top-left cell of a span stays its representative

    for r in range(rows):
        for c in range(columns - 1):
            if not vertical_rule(xs[c + 1], ys[r], ys[r + 1]):
                join((r, c), (r, c + 1))
    for r in range(rows - 1):
        for c in range(columns):
            if not horizontal_rule(ys[r + 1], xs[c], xs[c + 1]):
                join((r, c), (r + 1, c))
    return TableGrid(xs, ys, {cell: find(cell) for cell in parent})


def find_ruled_tables(grey: np.ndarray, text_height: float) -> list[TableGrid]:
    """Ruled tables in a deskewed greyscale page; `text_height` (median OCR box height) sets the scales."""
    dark = grey < min(128.0, float(np.percentile(grey, 50)) - 40.0)
    text_height = max(text_height, 8.0)
    thickness = max(6.0, 0.5 * text_height)
    tolerance = max(4.0, 0.35 * text_height)
    horizontal = _segments(dark, int(4 * text_height), thickness)
    vertical = [v for v in _segments(dark.T, int(1.25 * text_height), thickness)
                if _is_rule(v, horizontal, tolerance, text_height)]
    tables = []
    for h_rules, v_rules in _components(horizontal, vertical, tolerance):
        if len(h_rules) >= 2 and len(v_rules) >= 2:
            grid = _grid(h_rules, v_rules, tolerance)
            if grid is not None:
                tables.append(grid)
    return tables


def fill(grid: TableGrid, boxes: list[TextBox], join) -> list[list[str]]:
    """Cell texts, row by row; `join` turns one cell's boxes (in reading order) into a string."""
    found: dict[tuple[int, int], list[TextBox]] = {}
    for box in boxes:
        found.setdefault(grid.cell_of(*box.center), []).append(box)
    rows = [["" for _ in range(len(grid.xs) - 1)] for _ in range(len(grid.ys) - 1)]
    for (row, column), members in found.items():
        rows[row][column] = join(members)
    return [row for row in rows if any(row)]
