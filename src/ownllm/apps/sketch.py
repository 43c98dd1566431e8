"""Sketch to app (草图生成订餐小程序): a UI sketch becomes a single-page ordering app.

A photo or drawing of boxes with labels is read offline (rapidocr for the labels, OpenCV contours for the
boxes) into a containment tree whose text outline a small text-only model turns into a JSON app
description; `render_ordering_app` makes that description a self-contained HTML page. `draw_sketch` draws
sketches from a spec so that tests and evaluations have inputs with a known answer.
"""

from __future__ import annotations

import functools
import html
import io
import json
import math
import os
import random
import re
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont, ImageOps

MAX_PIXELS = 40_000_000
MIN_SIDE = 64
_WORK_SIDE = 2000  # larger images are read at this size: OCR and contours gain nothing above it
_CJK = re.compile(r"[\u2e80-\u9fff\uf900-\ufaff\uff00-\uffef]")
_CJK_FONT_NAMES = ("wqy", "notosanscjk", "notoserifcjk", "sourcehan", "droidsansfallback", "simhei", "simsun",
                   "msyh", "pingfang", "hiragino", "arplumi", "uming", "ukai")


class SketchError(ValueError):
    """A sketch that cannot be read; the message names the file and the reason."""


@dataclass
class SketchNode:
    kind: str  # "screen" | "box" | "label"
    text: str
    bbox: tuple[int, int, int, int]  # left, top, right, bottom in pixels
    children: list[SketchNode] = field(default_factory=list)


@dataclass
class SketchLayout:
    root: SketchNode
    labels: list[str]

    def outline(self) -> str:
        """An indented outline for the model's prompt. A box whose first child is a label is captioned by it
        (its heading, or a button's text), so that label is not repeated under it."""
        lines: list[str] = []

        def walk(node: SketchNode, depth: int) -> None:
            pad, children = "  " * depth, node.children
            if node.kind == "label":
                lines.append(f"{pad}label: {node.text}")
                return
            if node.kind == "box" and children and children[0].kind == "label":
                lines.append(f"{pad}box: {children[0].text}")
                children = children[1:]
            else:
                lines.append(pad + node.kind)
            for child in children:
                walk(child, depth + 1)

        walk(self.root, 0)
        return "\n".join(lines)


# ---------------------------------------------------------------- fonts
def find_font(cjk: bool) -> str:
    """A font file for the sketch's text: for CJK text OWNLLM_CJK_FONT, else fontconfig's or a known folder's
    Chinese font; for other text DejaVu Sans or any TrueType font. Looked up at run time, as machines differ."""
    chosen = os.environ.get("OWNLLM_CJK_FONT") if cjk else None
    if chosen:
        if not Path(chosen).is_file():
            raise RuntimeError(f"OWNLLM_CJK_FONT={chosen} is not a font file")
        return chosen
    listed: list[str] = []  # fontconfig's answer: for ":lang=zh", fonts that really cover Chinese
    if shutil.which("fc-list"):
        out = subprocess.run(["fc-list", ":lang=zh" if cjk else ":lang=en", "file"], capture_output=True,
                             text=True, timeout=20).stdout
        listed = sorted(line.split(":")[0].strip() for line in out.splitlines())
    scanned: list[str] = []  # where there is no fontconfig: the usual folders, CJK fonts known by name
    for folder in ("/usr/share/fonts", "/usr/local/share/fonts", "/System/Library/Fonts", "C:/Windows/Fonts"):
        scanned += sorted(str(p) for p in Path(folder).rglob("*")) if Path(folder).is_dir() else []
    if cjk:
        scanned = [f for f in scanned if Path(f).name.lower().replace("-", "").startswith(_CJK_FONT_NAMES)]
    fonts = [f for f in listed + scanned if f.lower().endswith((".ttf", ".ttc", ".otf"))]
    if not cjk:
        fonts.sort(key=lambda f: Path(f).name != "DejaVuSans.ttf")
    if fonts:
        return fonts[0]
    kind = "CJK (Chinese)" if cjk else "TrueType"
    raise RuntimeError(f"no {kind} font found to draw the sketch: install one (e.g. Debian's fonts-wqy-microhei "
                       "or fonts-noto-cjk) or set OWNLLM_CJK_FONT to a .ttf/.ttc/.otf file")


# ---------------------------------------------------------------- drawing
@functools.lru_cache(maxsize=64)
def _font(path: str, size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(path, size)


class _Pen:
    """Draws lines and text, straight or hand-drawn (wobbly lines, slightly turned text), from one seed."""

    def __init__(self, image: Image.Image, font_path: str, hand_drawn: bool, seed: int) -> None:
        self.image, self.draw, self.font_path = image, ImageDraw.Draw(image), font_path
        self.hand, self.rng, self.ink = hand_drawn, random.Random(seed), (22, 22, 28)

    def font(self, size: int) -> ImageFont.FreeTypeFont:
        return _font(self.font_path, size)

    def line(self, a: tuple[float, float], b: tuple[float, float]) -> None:
        if not self.hand:
            self.draw.line([a, b], fill=self.ink, width=3)
            return
        length = math.dist(a, b)
        ux, uy = (b[0] - a[0]) / length, (b[1] - a[1]) / length
        start, end = -self.rng.uniform(2, 7), length + self.rng.uniform(2, 7)  # pens overshoot corners
        steps = max(2, int(length / 35))
        offset, points = self.rng.uniform(-2, 2), []
        for i in range(steps + 1):
            t = start + (end - start) * i / steps
            offset = max(-3.5, min(3.5, offset + self.rng.uniform(-1.2, 1.2)))
            points.append((a[0] + ux * t - uy * offset, a[1] + uy * t + ux * offset))
        self.draw.line(points, fill=self.ink, width=self.rng.choice((3, 3, 4)), joint="curve")

    def rect(self, left: float, top: float, right: float, bottom: float) -> None:
        corners = [(left, top), (right, top), (right, bottom), (left, bottom)]
        for i in range(4):
            self.line(corners[i], corners[(i + 1) % 4])

    def text(self, xy: tuple[float, float], text: str, size: int) -> None:
        if not self.hand:
            self.draw.text(xy, text, font=self.font(size), fill=self.ink)
            return
        x, y = xy[0] + self.rng.uniform(-4, 4), xy[1] + self.rng.uniform(-3, 3)
        tilt = self.rng.uniform(-2.0, 2.0)  # the whole line, plus each character a little on its own
        for char in text:
            font = self.font(round(size * self.rng.uniform(0.92, 1.08)))
            advance = self.draw.textlength(char, font=font)
            if char.strip():
                mask = Image.new("L", (int(advance) + 16, size + 24), 0)
                ImageDraw.Draw(mask).text((8, 8), char, font=font, fill=255)
                mask = mask.rotate(tilt + self.rng.uniform(-4, 4), resample=Image.Resampling.BICUBIC)
                self.image.paste(Image.new("RGB", mask.size, self.ink),
                                 (int(x) - 8, int(y + self.rng.uniform(-2, 2)) - 8), mask)
            x += advance * self.rng.uniform(0.97, 1.08)
            y -= advance * math.sin(math.radians(tilt))

    def width(self, text: str, size: int) -> float:
        return self.draw.textlength(text, font=self.font(size))


def draw_sketch(spec: dict, *, hand_drawn: bool = False, seed: int = 0) -> bytes:
    """PNG of a UI sketch drawn from a spec: {"title": str, "boxes": [{"label": str, "items": [str, ...]}],
    "button": str} — boxes stacked vertically inside a phone frame ("row": true puts a box's items side by
    side), black pen on white, or on shaded paper with wobbly lines and turned text when hand_drawn."""
    boxes = spec.get("boxes") or []
    words = [spec.get("title", ""), spec.get("button", "")]
    words += [b.get("label", "") for b in boxes] + [i for b in boxes for i in b.get("items", [])]
    width, size, line_h, pad, left, right = 800, 34, 58, 24, 70, 730
    bound = 400 + sum(3 * pad + 30 + line_h * (len(b.get("items", [])) + 2) for b in boxes)  # canvas, cropped later
    pen = _Pen(Image.new("RGB", (width, bound), (255, 255, 255)),
               find_font(cjk=any(_CJK.search(str(w)) for w in words)), hand_drawn, seed)
    y = 70.0
    if spec.get("title"):
        pen.text((left + 10, y), str(spec["title"]), 44)
        y += 80
    for box in boxes:
        top, y = y, y + pad
        if box.get("label"):
            pen.text((left + pad, y), str(box["label"]), size)
            y += line_h + 6
        x = left + pad
        for item in map(str, box.get("items", [])):
            if not box.get("row"):
                pen.text((left + pad + 20, y), item, size)
                y += line_h
                continue
            if x > left + pad and x + pen.width(item, size) > right - pad:  # the row is full: wrap
                x, y = left + pad, y + line_h
            pen.text((x, y), item, size)
            x += pen.width(item, size) + 70
        y += line_h if box.get("row") and box.get("items") else 0
        pen.rect(left, top, right, y + pad - 14)
        y += pad + 30
    if spec.get("button"):
        text = str(spec["button"])
        text_w = pen.width(text, size)
        edge = (width - max(text_w + 80, 300)) / 2
        pen.rect(edge, y, width - edge, y + 84)
        pen.text(((width - text_w) / 2, y + 22), text, size)
        y += 84 + 40
    height = int(y + 60)
    pen.rect(30, 30, width - 30, height - 30)  # the phone's screen
    image = pen.image.crop((0, 0, width, height))
    if hand_drawn:
        image = _on_paper(image, seed)
    out = io.BytesIO()
    image.save(out, format="PNG", compress_level=1 if hand_drawn else 6)  # paper grain compresses slowly
    return out.getvalue()


def _on_paper(image: Image.Image, seed: int) -> Image.Image:
    """What a phone photo of a paper sketch shows: grey-beige paper, a soft shadow over one side, grain, and a
    slight turn."""
    rng = np.random.default_rng(seed)
    h, w = image.height, image.width
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float32)
    cx, cy = rng.uniform(0.6, 1.0) * w, rng.uniform(0.6, 1.0) * h
    shadow = 0.25 * np.exp(-(((xs - cx) / (0.6 * w)) ** 2 + ((ys - cy) / (0.6 * h)) ** 2))
    shade = (1.0 - 0.1 * (xs / w + ys / h) / 2 - shadow)[..., None]
    paper = np.array([236, 232, 222], np.float32) * shade + rng.normal(0, 3, (h, w, 1))
    ink = np.asarray(image, np.float32) / 255.0  # white where nothing was drawn
    photo = Image.fromarray(np.clip(paper * ink, 0, 255).astype(np.uint8))
    return photo.rotate(float(rng.uniform(-1.2, 1.2)), resample=Image.Resampling.BICUBIC, fillcolor=(120, 118, 112))


# ---------------------------------------------------------------- reading
def _open(data: bytes, name: str) -> Image.Image:
    """The image upright (EXIF orientation applied), in RGB; too large, too small or unreadable ones refused."""
    if data[4:8] == b"ftyp":  # HEIC/HEIF from phones
        try:
            import pi_heif

            pi_heif.register_heif_opener()
        except ImportError as exc:
            raise SketchError(f"{name}: HEIC/HEIF photos need the pi-heif package, which is not installed") from exc
    try:
        picture = Image.open(io.BytesIO(data))
    except Image.DecompressionBombError as exc:
        raise SketchError(f"{name}: image is over {MAX_PIXELS // 1_000_000} megapixels") from exc
    except Exception as exc:
        raise SketchError(f"{name}: not an image that can be opened ({exc})") from exc
    w, h = picture.size
    if w * h > MAX_PIXELS:
        raise SketchError(f"{name}: image is {w}×{h}, over {MAX_PIXELS // 1_000_000} megapixels")
    if min(w, h) < MIN_SIDE:
        raise SketchError(f"{name}: image is {w}×{h}, under {MIN_SIDE}×{MIN_SIDE}: too small to hold a sketch")
    try:
        picture = ImageOps.exif_transpose(picture)
        if picture.mode in ("RGBA", "LA", "PA") or "transparency" in picture.info:  # drawings exported see-through
            white = Image.new("RGBA", picture.size, "white")
            return Image.alpha_composite(white, picture.convert("RGBA")).convert("RGB")
        return picture.convert("RGB")
    except Exception as exc:
        raise SketchError(f"{name}: image is damaged or unreadable ({exc})") from exc


def _reading_order(nodes: list[SketchNode]) -> list[SketchNode]:
    """Top to bottom, and left to right within a line (nodes whose vertical centres are close)."""
    rows: list[list[SketchNode]] = []
    for node in sorted(nodes, key=lambda n: (n.bbox[1] + n.bbox[3]) / 2):
        centre, height = (node.bbox[1] + node.bbox[3]) / 2, node.bbox[3] - node.bbox[1]
        if rows:
            first = rows[-1][0]
            if abs(centre - (first.bbox[1] + first.bbox[3]) / 2) < 0.5 * min(height, first.bbox[3] - first.bbox[1]):
                rows[-1].append(node)
                continue
        rows.append([node])
    return [n for row in rows for n in sorted(row, key=lambda n: n.bbox[0])]


def _ocr_labels(rgb: np.ndarray, scale: float) -> list[SketchNode]:
    from ownllm.ingest.parsers.image_ocr import _get_engine

    result = _get_engine()(rgb)
    if result.boxes is None or not result.txts:
        return []
    labels = []
    for quad, text, score in zip(result.boxes, result.txts, result.scores, strict=True):
        text = " ".join(str(text).split())
        if text and float(score) >= 0.5:
            xs, ys = [p[0] for p in quad], [p[1] for p in quad]
            bbox = (min(xs) * scale, min(ys) * scale, max(xs) * scale, max(ys) * scale)
            labels.append(SketchNode("label", text, tuple(round(v) for v in bbox), []))
    return labels


def _rectangles(grey: np.ndarray, text_height: float) -> list[tuple[int, int, int, int]]:
    """Drawn rectangles: closed, four-cornered contours in an adaptive threshold of the page (which copes with
    grey paper and soft shadows), larger than a line of text; outer and inner edges of one stroke merged."""
    import cv2

    h, w = grey.shape
    block = max(15, min(h, w) // 25) | 1
    ink = cv2.adaptiveThreshold(grey, 255, cv2.ADAPTIVE_THRESH_GAUSSIAN_C, cv2.THRESH_BINARY_INV, block, 12)
    k = max(3, min(h, w) // 250) | 1
    ink = cv2.morphologyEx(ink, cv2.MORPH_CLOSE, cv2.getStructuringElement(cv2.MORPH_RECT, (k, k)))
    contours, _ = cv2.findContours(ink, cv2.RETR_LIST, cv2.CHAIN_APPROX_SIMPLE)
    found: list[tuple[int, int, int, int]] = []
    for contour in contours:
        x, y, cw, ch = cv2.boundingRect(contour)
        if cw < 2.0 * text_height or ch < 1.4 * text_height:
            continue
        approx = cv2.approxPolyDP(contour, 0.02 * cv2.arcLength(contour, True), True)
        if 4 <= len(approx) <= 6 and cv2.contourArea(contour) >= 0.8 * cw * ch:
            found.append((x, y, x + cw, y + ch))
    kept: list[tuple[int, int, int, int]] = []
    for rect in sorted(found, key=_area, reverse=True):
        if all(_iou(rect, other) < 0.8 for other in kept):
            kept.append(rect)
    return kept


def _area(b: tuple[int, int, int, int]) -> int:
    return max(0, b[2] - b[0]) * max(0, b[3] - b[1])


def _iou(a: tuple[int, int, int, int], b: tuple[int, int, int, int]) -> float:
    inter = _area((max(a[0], b[0]), max(a[1], b[1]), min(a[2], b[2]), min(a[3], b[3])))
    return inter / max(1, _area(a) + _area(b) - inter)


def _inside(inner: tuple[int, int, int, int], outer: tuple[int, int, int, int], slack: int = 4) -> bool:
    return (inner[0] >= outer[0] - slack and inner[1] >= outer[1] - slack and inner[2] <= outer[2] + slack
            and inner[3] <= outer[3] + slack)


def _merge_prices(labels: list[SketchNode]) -> list[SketchNode]:
    """A price read apart from its item on the same line of one box ("牛肉面 ...... ¥18") is joined to it."""
    out: list[SketchNode] = []
    for label in _reading_order(labels):
        prev = out[-1] if out else None
        if prev is not None and price_of(label.text) is not None and price_of(prev.text) is None:
            height = max(prev.bbox[3] - prev.bbox[1], label.bbox[3] - label.bbox[1])
            overlap = min(prev.bbox[3], label.bbox[3]) - max(prev.bbox[1], label.bbox[1])
            gap = label.bbox[0] - prev.bbox[2]
            if overlap > 0.5 * height and -4 <= gap < 15 * height:
                out[-1] = SketchNode("label", f"{prev.text} {label.text}", (prev.bbox[0], min(prev.bbox[1],
                                     label.bbox[1]), label.bbox[2], max(prev.bbox[3], label.bbox[3])), [])
                continue
        out.append(label)
    return out


def read_sketch(data: bytes, name: str = "sketch") -> SketchLayout:
    """OCR labels (rapidocr) + rectangles (OpenCV contours/approxPoly on a thresholded image) → a containment tree:
    each label goes to the smallest box containing its center; boxes nest by containment; the screen is the root."""
    import cv2

    image = _open(data, name)
    grey_full = np.asarray(image.convert("L"))
    if float(grey_full.std()) < 4.0:
        raise SketchError(f"{name}: the image is blank: no text found in the sketch")
    scale = max(1.0, max(image.size) / _WORK_SIDE)
    work = image if scale == 1.0 else image.resize((round(image.width / scale), round(image.height / scale)),
                                                   Image.Resampling.LANCZOS)
    labels = _ocr_labels(np.asarray(work), scale)
    if not labels:
        raise SketchError(f"{name}: no text found in the sketch")
    text_height = float(np.median([b.bbox[3] - b.bbox[1] for b in labels])) / scale
    grey = cv2.cvtColor(np.asarray(work), cv2.COLOR_RGB2GRAY)
    rects = [tuple(int(v * scale) for v in r) for r in _rectangles(grey, text_height)]
    screen = (0, 0, image.width, image.height)
    if rects and _area(rects[0]) >= 0.5 * _area(screen):  # a frame around nearly everything is the screen itself
        screen, rects = rects[0], rects[1:]
    root = SketchNode("screen", "", screen, [])
    boxes = [SketchNode("box", "", r, []) for r in rects]  # largest first
    for i, box in enumerate(boxes):
        parents = [b for b in boxes[:i] if _inside(box.bbox, b.bbox)]
        (parents[-1] if parents else root).children.append(box)
    for label in labels:
        cx, cy = (label.bbox[0] + label.bbox[2]) / 2, (label.bbox[1] + label.bbox[3]) / 2
        holders = [b for b in boxes if b.bbox[0] < cx < b.bbox[2] and b.bbox[1] < cy < b.bbox[3]]
        (min(holders, key=lambda b: _area(b.bbox)) if holders else root).children.append(label)

    def settle(node: SketchNode) -> None:
        node.children = _reading_order([c for c in node.children if c.kind == "box"]
                                       + _merge_prices([c for c in node.children if c.kind == "label"]))
        for child in node.children:
            settle(child)
        if node.kind == "box":
            node.text = " ".join(c.text for c in node.children if c.kind == "label")

    settle(root)
    return SketchLayout(root, [label.text for label in _reading_order(list(_labels_in(root)))])


def _labels_in(node: SketchNode) -> list[SketchNode]:
    return [node] if node.kind == "label" else [label for c in node.children for label in _labels_in(c)]


# ---------------------------------------------------------------- prices
_CURRENCY_BEFORE = r"(?:[¥￥$€£]|RMB|CNY|USD|EUR)"
_CURRENCY_AFTER = r"(?:元|块|圆|RMB|CNY|USD|EUR|[€$¥￥])"
_NUMBER = r"(\d{1,3}(?:,\d{3})+(?:\.\d{1,2})?|\d+(?:[.,]\d{1,2})?)"


def price_of(label: str) -> float | None:
    """A price written in a label ("¥18", "18元", "$4.50", "4.50") → number, else None; a bare trailing number
    counts only with two decimals ("Tea 4.50"), since "Table 3" or "330ml" are not prices."""
    text = " ".join(str(label).split())
    match = (re.search(_CURRENCY_BEFORE + r"\s?" + _NUMBER, text, re.IGNORECASE)
             or re.search(_NUMBER + r"\s?" + _CURRENCY_AFTER, text, re.IGNORECASE)
             or re.fullmatch(_NUMBER, text) or re.search(r"(?:^|\s)(\d+\.\d{2})$", text))
    if not match:
        return None
    number = match.group(1)
    if re.fullmatch(r"\d+,\d{1,2}", number):  # a decimal comma: "4,50 €"
        number = number.replace(",", ".")
    return float(number.replace(",", ""))


# ---------------------------------------------------------------- the app
_WORDS = {
    "en": {"cart": "Cart", "total": "Total", "summary": "Order summary", "empty": "Your cart is empty",
           "close": "OK", "add": "Add", "remove": "Remove"},
    "zh": {"cart": "购物车", "total": "合计", "summary": "订单摘要", "empty": "购物车是空的", "close": "好的",
           "add": "加一份", "remove": "减一份"},
}

_CSS = """*{box-sizing:border-box}body{margin:0;
font-family:system-ui,-apple-system,"PingFang SC","Microsoft YaHei",sans-serif;background:#f5f5f5;color:#222}
main{max-width:480px;margin:0 auto;padding:16px 16px 140px}h1{font-size:1.5rem;margin:8px 0 16px}
section{background:#fff;border-radius:12px;padding:12px 16px;margin-bottom:12px;box-shadow:0 1px 3px rgba(0,0,0,.08)}
h2{font-size:1.1rem;margin:4px 0 8px}.item{display:flex;align-items:center;gap:8px;padding:8px 0;
border-top:1px solid #eee}.item:first-of-type{border-top:0}.name{flex:1}.price{color:#c0392b;min-width:4em;
text-align:right}.item button{width:32px;height:32px;border-radius:16px;border:1px solid #ccc;background:#fff;
font-size:1.1rem}.qty{min-width:1.5em;text-align:center}.notes{color:#666;font-size:.9rem}#cart{position:fixed;left:0;
right:0;bottom:0;background:#fff;border-top:1px solid #ddd;padding:10px 16px}#cart>div{max-width:480px;margin:0 auto}
#cart ul{list-style:none;margin:0 0 6px;padding:0;max-height:80px;overflow:auto;font-size:.9rem}#order{width:100%;
padding:12px;border:0;border-radius:22px;background:#ff7a00;color:#fff;font-size:1rem}#summary{position:fixed;inset:0;
background:rgba(0,0,0,.45);display:flex;align-items:center;justify-content:center}#summary[hidden]{display:none}
#summary>div{background:#fff;border-radius:12px;padding:16px 20px;min-width:260px;max-width:90vw}"""

_JS = """"use strict";
const money = (cents, cur) => cur + (cents % 100 ? (cents / 100).toFixed(2) : String(cents / 100));
const cartLines = (items, qty) => items.map((it, i) => ({name: it.name, qty: qty[i] || 0,
  cents: Math.round(it.price * 100) * (qty[i] || 0)})).filter((l) => l.qty > 0);
const cartTotal = (items, qty) => cartLines(items, qty).reduce((sum, l) => sum + l.cents, 0);
if (typeof document !== "undefined") {
  const $ = (id) => document.getElementById(id);
  const data = JSON.parse($("app-data").textContent);
  const qty = data.items.map(() => 0);
  const fill = (list, lines) => {
    list.textContent = "";
    for (const l of lines) {
      const li = document.createElement("li");
      li.textContent = l.name + " × " + l.qty + "  " + money(l.cents, data.currency);
      list.appendChild(li);
    }
  };
  const update = () => {
    qty.forEach((q, i) => { $("qty-" + i).textContent = String(q); });
    fill($("cart-items"), cartLines(data.items, qty));
    $("total").textContent = money(cartTotal(data.items, qty), data.currency);
  };
  document.querySelectorAll("button[data-id]").forEach((b) => b.addEventListener("click", () => {
    const i = Number(b.getAttribute("data-id"));
    qty[i] = Math.max(0, qty[i] + (b.classList.contains("plus") ? 1 : -1));
    update();
  }));
  $("order").addEventListener("click", () => {
    const lines = cartLines(data.items, qty);
    fill($("summary-items"), lines);
    $("summary-total").textContent = lines.length
      ? data.words.total + ": " + money(cartTotal(data.items, qty), data.currency) : data.words.empty;
    $("summary").hidden = false;
  });
  $("summary-close").addEventListener("click", () => { $("summary").hidden = true; });
  update();
}"""


def _money(price: float, currency: str) -> str:
    cents = round(price * 100)
    return currency + (f"{cents / 100:.2f}" if cents % 100 else str(cents // 100))


def _script_json(value: object) -> str:
    """JSON that cannot end its <script> element or open a comment in it: <, > and & written as \\u escapes."""
    text = json.dumps(value, ensure_ascii=False)
    for char, escape in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026"), ("\u2028", "\\u2028"),
                         ("\u2029", "\\u2029")):
        text = text.replace(char, escape)
    return text


def _price(value: object, where: str) -> float:
    price = value if isinstance(value, int | float) and not isinstance(value, bool) else price_of(str(value))
    if price is None or not math.isfinite(price) or price < 0:
        raise ValueError(f"{where}: price {value!r} is not a price")
    return float(price)


def render_ordering_app(app: dict, lang: str = "en") -> str:
    """A self-contained single-page HTML ordering app (inline CSS and JS, no external URLs) from
    {"title", "sections": [{"name", "items": [{"name", "price"}]}], "order_button", "notes"?, "currency"?}.
    Model-written input is checked (ValueError naming the bad part), all text is escaped, and the data reach the
    script as JSON in a data block, never as markup."""
    if not isinstance(app, dict) or not isinstance(app.get("sections"), list):
        raise ValueError("app description needs a list of sections")
    code = "zh" if str(lang).lower().startswith("zh") else "en"
    tag = lang if re.fullmatch(r"[A-Za-z]{2,3}(?:-[A-Za-z0-9]{1,8})*", str(lang)) else code
    words = _WORDS[code]
    currency = str(app.get("currency") or ("¥" if code == "zh" else "$"))
    title = str(app.get("title") or "")
    esc = html.escape
    items: list[dict] = []
    parts = [f'<h1 id="title">{esc(title)}</h1>']
    for s, section in enumerate(app["sections"]):
        if not isinstance(section, dict) or not isinstance(section.get("items", []), list):
            raise ValueError(f"section {s + 1} is not an object with a list of items")
        parts.append(f'<section class="section"><h2>{esc(str(section.get("name") or ""))}</h2>')
        for n, item in enumerate(section.get("items", [])):
            where = f"section {s + 1} item {n + 1}"
            if not isinstance(item, dict) or not str(item.get("name") or "").strip():
                raise ValueError(f"{where}: an item needs a name")
            i, name, price = len(items), str(item["name"]).strip(), _price(item.get("price"), where)
            items.append({"name": name, "price": price})
            parts.append(
                f'<div class="item" data-item="{i}"><span class="name">{esc(name)}</span>'
                f'<span class="price">{esc(_money(price, currency))}</span>'
                f'<button type="button" class="minus" data-id="{i}" aria-label="{words["remove"]}">−</button>'
                f'<span class="qty" id="qty-{i}">0</span>'
                f'<button type="button" class="plus" data-id="{i}" aria-label="{words["add"]}">+</button></div>')
        parts.append("</section>")
    if not items:
        raise ValueError("app description has no items to order")
    if app.get("notes"):
        parts.append(f'<p class="notes">{esc(str(app["notes"]))}</p>')
    button = str(app.get("order_button") or ("提交订单" if code == "zh" else "Place order"))
    data = {"items": items, "currency": currency, "words": words}
    return f"""<!doctype html>
<html lang="{tag}">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>{esc(title)}</title><style>{_CSS}</style></head>
<body><main id="app">
{chr(10).join(parts)}
</main>
<aside id="cart"><div><h2>{words["cart"]}</h2><ul id="cart-items"></ul>
<p>{words["total"]}: <strong id="total">{esc(_money(0, currency))}</strong></p>
<button type="button" id="order">{esc(button)}</button></div></aside>
<div id="summary" role="dialog" aria-modal="true" hidden><div><h2>{words["summary"]}</h2><ul id="summary-items"></ul>
<p id="summary-total"></p><button type="button" id="summary-close">{words["close"]}</button></div></div>
<script type="application/json" id="app-data">{_script_json(data)}</script>
<script>{_JS}</script>
</body>
</html>
"""
