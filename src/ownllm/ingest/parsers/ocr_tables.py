"""Tables in scanned pages: rebuild the grid from its ruling lines, then put OCR'd text in its cells.

OCR alone returns words with positions; read line by line, a table's header cells that
wrap onto two lines interleave with their neighbours and the table becomes prose. Most
tables in scanned business documents are ruled, so the grid is recovered from the
image itself: long dark runs are rule segments, a vertical rule counts only when it
meets horizontal rules at both ends (a letter's stroke never does), and the rules
connected to each other form one table. A missing rule between two neighbouring cells
means a merged cell; its text goes into the top-left cell of the span and the others
stay empty, as spreadsheets and CSV exports write merged cells.

Open tables (report style: a rule above, one under the header, one below, no vertical
rules) are found between horizontal rules that no vertical rule meets: columns are the
gaps that no text box crosses. To keep prose out, at least three columns are needed,
most lines must have text in two or more of them, and the cells must not be full lines
of justified text.
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


def _join_collinear(segments: list[Segment], tolerance: float) -> list[Segment]:
    """Pieces of one rule that a slight residual tilt broke apart (each a few pixels higher than the
    last) become one rule again."""
    joined: list[Segment] = []
    for piece in sorted(segments, key=lambda s: s.start):
        for rule in joined:
            if abs(rule.at - piece.at) <= tolerance and piece.start <= rule.end + tolerance:
                span = (rule.end - rule.start) + (piece.end - piece.start)
                rule.at = (rule.at * (rule.end - rule.start) + piece.at * (piece.end - piece.start)) / span
                rule.start, rule.end = min(rule.start, piece.start), max(rule.end, piece.end)
                break
        else:
            joined.append(Segment(piece.at, piece.start, piece.end, piece.rows))
    return joined


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


def group_lines(boxes: list[TextBox]) -> list[list[TextBox]]:
    """Boxes into lines by vertical overlap, top to bottom, each line left to right."""
    groups: list[list[TextBox]] = []
    for box in sorted(boxes, key=lambda b: (b.top, b.left)):
        if groups:
            top, bottom = min(b.top for b in groups[-1]), max(b.bottom for b in groups[-1])
            overlap = min(bottom, box.bottom) - max(box.top, top)
            if overlap > 0.5 * min(bottom - top, box.bottom - box.top):
                groups[-1].append(box)
                continue
        groups.append([box])
    return [sorted(group, key=lambda b: b.left) for group in groups]


def find_tables(grey: np.ndarray, boxes: list[TextBox]) -> list[TableGrid]:
    """Ruled and open tables in a deskewed greyscale page, given its OCR boxes."""
    heights = [b.bottom - b.top for b in boxes]
    if not heights:
        return []
    text_height = max(float(np.median(heights)), 8.0)
    dark = grey < min(128.0, float(np.percentile(grey, 50)) - 40.0)
    thickness = max(6.0, 0.5 * text_height)
    tolerance = max(4.0, 0.35 * text_height)
    horizontal = _join_collinear(_segments(dark, int(4 * text_height), thickness), tolerance)
    vertical = [v for v in _join_collinear(_segments(dark.T, int(1.25 * text_height), thickness), tolerance)
                if _is_rule(v, horizontal, tolerance, text_height)]
    tables, free_rules = [], []
    for h_rules, v_rules in _components(horizontal, vertical, tolerance):
        if not v_rules:
            free_rules += h_rules
        elif len(h_rules) >= 2 and len(v_rules) >= 2:
            grid = _grid(h_rules, v_rules, tolerance)
            if grid is not None:
                tables.append(grid)
    loose = [b for b in boxes if not any(t.contains(*b.center) for t in tables)]
    for rules in _rule_groups(free_rules, text_height):
        grid = _open_table(rules, loose, text_height)
        if grid is not None:
            tables.append(grid)
    return tables


def _rule_groups(rules: list[Segment], text_height: float) -> list[list[Segment]]:
    """Horizontal rules of about the same extent, one below the other: the frame of an open table."""
    groups: list[list[Segment]] = []
    for rule in sorted(rules, key=lambda r: r.at):
        if groups:
            last = groups[-1][-1]
            aligned = abs(rule.start - last.start) <= 2 * text_height and abs(rule.end - last.end) <= 2 * text_height
            if aligned and rule.at - last.at <= 30 * text_height:
                groups[-1].append(rule)
                continue
        groups.append([rule])
    return [group for group in groups if len(group) >= 2]


def _open_table(rules: list[Segment], boxes: list[TextBox], text_height: float) -> TableGrid | None:
    left, right = min(r.start for r in rules), max(r.end for r in rules)
    top, bottom = rules[0].at, rules[-1].at
    inside = [b for b in boxes if left <= b.center[0] <= right and top <= b.center[1] <= bottom]
    lines = group_lines(inside)
    if len(lines) < 2:
        return None
    covered = np.zeros(int(right - left) + 1, dtype=bool)
    for box in inside:
        covered[max(int(box.left - left), 0):max(int(box.right - left) + 1, 0)] = True
    text_start, text_end = int(np.argmax(covered)), len(covered) - int(np.argmax(covered[::-1]))
    xs = [left]
    gap_start = None
    for x in range(text_start, text_end):
        if not covered[x] and gap_start is None:
            gap_start = x
        elif covered[x] and gap_start is not None:
            if x - gap_start >= max(0.8 * text_height, 12):
                xs.append(left + (gap_start + x) / 2)
            gap_start = None
    xs.append(right)
    columns = len(xs) - 1
    if columns < 3:
        return None
    grid = TableGrid(xs, [top, bottom])
    cells = [{grid.cell_of(*b.center)[1] for b in line} for line in lines]
    if sum(len(c) >= 2 for c in cells) < 0.6 * len(lines):
        return None
    widths = [(b.right - b.left) / (xs[c + 1] - xs[c]) for line in lines for b in line
              for c in [grid.cell_of(*b.center)[1]]]
    if sum(w >= 0.85 for w in widths) > 0.7 * len(widths):
        return None  # columns of justified prose, not cells
    ys = [top]
    for previous, line, used in zip(lines, lines[1:], cells[1:], strict=False):
        if len(used) == 1 and 0 not in used:
            continue  # a wrapped cell continues the row above
        ys.append((max(b.bottom for b in previous) + min(b.top for b in line)) / 2)
    ys.append(bottom)
    return TableGrid(xs, ys)


def fill(grid: TableGrid, boxes: list[TextBox], join) -> list[list[str]]:
    """Cell texts, row by row; `join` turns one cell's boxes (in reading order) into a string."""
    found: dict[tuple[int, int], list[TextBox]] = {}
    for box in boxes:
        found.setdefault(grid.cell_of(*box.center), []).append(box)
    rows = [["" for _ in range(len(grid.xs) - 1)] for _ in range(len(grid.ys) - 1)]
    for (row, column), members in found.items():
        rows[row][column] = join(members)
    return [row for row in rows if any(row)]
