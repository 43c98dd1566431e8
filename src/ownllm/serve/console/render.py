"""Server-side rendering for the console: one autoescaping Jinja environment, the page frame, and the
charts drawn as SVG here (no chart library to ship, no script needed to see them)."""

from __future__ import annotations

import datetime as dt
import re
from functools import lru_cache
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup, escape

from ownllm import __version__
from ownllm.serve.console.i18n import translate
from ownllm.serve.console.session import CSRF_FIELD, ConsoleUser

# each page and the scope its data needs (the same as the API's); the header shows what the key may open
NAV = (("data", "files"), ("corpus", "inference"), ("search", "inference"), ("training", "fine_tune"),
       ("tuning", "fine_tune"), ("evals", "fine_tune"), ("models", "fine_tune"), ("playground", "inference"),
       ("apps", "inference"), ("usage", None))


def _when(moment: Any) -> str:
    if isinstance(moment, dt.datetime):
        return moment.strftime("%Y-%m-%d %H:%M")
    if isinstance(moment, int | float):
        return dt.datetime.fromtimestamp(moment, dt.UTC).strftime("%Y-%m-%d %H:%M")
    return "" if moment is None else str(moment)


def _size(n: int | float | None) -> str:
    if n is None:
        return ""
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return str(n)


def highlight(text: str, query: str) -> Markup:
    """The text with the query's words (Latin words, and Chinese characters pairwise) marked."""
    terms = {w for w in re.findall(r"[\w\-.]{2,}", query) if not re.search(r"[\u4e00-\u9fff]", w)}
    han = "".join(re.findall(r"[\u4e00-\u9fff]", query))
    terms |= {han[i:i + 2] for i in range(len(han) - 1)}
    if not terms:
        return escape(text)
    pattern = re.compile("|".join(re.escape(t) for t in sorted(terms, key=len, reverse=True)), re.IGNORECASE)
    out, last = [], 0
    for match in pattern.finditer(text):
        out.append(escape(text[last:match.start()]))
        out.append(Markup("<mark>") + escape(match.group(0)) + Markup("</mark>"))
        last = match.end()
    out.append(escape(text[last:]))
    return Markup("").join(out)


def line_chart(points: list[tuple[float, float]], *, width: int = 640, height: int = 240, x_label: str = "",
               y_label: str = "", title: str = "") -> Markup:
    """A line chart (e.g. loss by step) as inline SVG with axes and min/max ticks."""
    if not points:
        return Markup(f'<svg class="chart" role="img" aria-label="{escape(title)}" width="{width}" '
                      f'height="{height}"></svg>')
    pad = 44
    xs, ys = [p[0] for p in points], [p[1] for p in points]
    x0, x1 = min(xs), max(xs) if max(xs) > min(xs) else min(xs) + 1
    y0, y1 = min(ys), max(ys) if max(ys) > min(ys) else min(ys) + 1

    def at(x: float, y: float) -> str:
        return (f"{pad + (x - x0) / (x1 - x0) * (width - 2 * pad):.1f},"
                f"{height - pad - (y - y0) / (y1 - y0) * (height - 2 * pad):.1f}")

    path = " ".join(at(x, y) for x, y in points)
    dots = "".join(f'<circle cx="{at(x, y).split(",")[0]}" cy="{at(x, y).split(",")[1]}" r="2.5"/>'
                   for x, y in points[-200:])
    return Markup(
        f'<svg class="chart" role="img" aria-label="{escape(title)}" viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}"><title>{escape(title)}</title>'
        f'<line x1="{pad}" y1="{height - pad}" x2="{width - pad}" y2="{height - pad}" class="axis"/>'
        f'<line x1="{pad}" y1="{pad}" x2="{pad}" y2="{height - pad}" class="axis"/>'
        f'<text x="{pad}" y="{height - pad + 16}">{x0:g}</text>'
        f'<text x="{width - pad}" y="{height - pad + 16}" text-anchor="end">{x1:g}</text>'
        f'<text x="{pad - 4}" y="{height - pad}" text-anchor="end">{y0:.3g}</text>'
        f'<text x="{pad - 4}" y="{pad + 4}" text-anchor="end">{y1:.3g}</text>'
        f'<text x="{width / 2}" y="{height - 8}" text-anchor="middle">{escape(x_label)}</text>'
        f'<text x="12" y="{height / 2}" transform="rotate(-90 12 {height / 2})" text-anchor="middle">'
        f'{escape(y_label)}</text>'
        f'<polyline points="{path}" class="line"/><g class="dots">{dots}</g></svg>')


def bar_chart(bars: list[tuple[str, float]], *, width: int = 640, height: int = 240, title: str = "",
              intervals: list[tuple[float, float]] | None = None) -> Markup:
    """Vertical bars with labels (usage per day, F1 per system), optional interval whiskers."""
    if not bars:
        return Markup("")
    pad, top = 44, max(max(v for _, v in bars), max((hi for _, hi in intervals or []), default=0), 1e-9)
    slot = (width - 2 * pad) / len(bars)
    parts = []
    for index, (label, value) in enumerate(bars):
        x = pad + index * slot + slot * 0.15
        h = value / top * (height - 2 * pad)
        parts.append(f'<rect x="{x:.1f}" y="{height - pad - h:.1f}" width="{slot * 0.7:.1f}" height="{h:.1f}">'
                     f'<title>{escape(label)}: {value:g}</title></rect>')
        if intervals:
            low, high = intervals[index]
            cx = x + slot * 0.35
            y_low, y_high = (height - pad - v / top * (height - 2 * pad) for v in (low, high))
            parts.append(f'<line class="ci" x1="{cx:.1f}" x2="{cx:.1f}" y1="{y_low:.1f}" y2="{y_high:.1f}"/>')
        if len(bars) <= 16 or index % max(1, len(bars) // 8) == 0:
            parts.append(f'<text x="{x + slot * 0.35:.1f}" y="{height - pad + 14}" text-anchor="middle">'
                         f'{escape(label[-10:])}</text>')
    return Markup(
        f'<svg class="chart bars" role="img" aria-label="{escape(title)}" viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}"><title>{escape(title)}</title>'
        f'<line x1="{pad}" y1="{height - pad}" x2="{width - pad}" y2="{height - pad}" class="axis"/>'
        f'<text x="{pad - 4}" y="{pad + 4}" text-anchor="end">{top:.3g}</text>{"".join(parts)}</svg>')


def usage_chart(rows: list[dict[str, Any]], title: str) -> Markup:
    """Tokens (prompt + completion) per group of a usage summary (a day, a model)."""
    return bar_chart([(str(r["group"] or "—"), r["prompt_tokens"] + r["completion_tokens"]) for r in rows], title=title)


@lru_cache(maxsize=1)
def environment() -> Environment:
    env = Environment(loader=PackageLoader("ownllm.serve.console", "templates"),
                      autoescape=select_autoescape(default=True, default_for_string=True), auto_reload=False)
    env.filters["when"] = _when
    env.filters["size"] = _size
    env.globals.update(highlight=highlight, line_chart=line_chart, bar_chart=bar_chart,
                       usage_chart=usage_chart, version=__version__, nav=NAV, csrf_field=CSRF_FIELD)
    return env


def fragment(template: str, user: ConsoleUser | None, lang: str = "en", **context: Any) -> str:
    lang = user.lang if user is not None else lang
    return environment().get_template(template).render(
        user=user, lang=lang, t=lambda key: translate(key, lang), **context)


def page(request: Request, user: ConsoleUser | None, template: str, *, status: int = 200, lang: str = "en",
         **context: Any) -> HTMLResponse:
    html = fragment(template, user, lang, path=request.url.path, query=str(request.url.query), **context)
    return HTMLResponse(html, status_code=status, headers={
        "Cache-Control": "no-store", "X-Frame-Options": "SAMEORIGIN", "Referrer-Policy": "same-origin",
        "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; style-src 'self'; "
                                   "script-src 'self'; frame-src 'self'; object-src 'none'; base-uri 'none'; "
                                   "form-action 'self'; media-src 'self'"})
