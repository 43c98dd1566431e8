"""Sketch to app: drawn sketches read back by real OCR into a layout tree, and the ordering app rendered from
a JSON description (escaping, no external URLs, and, where node is installed, the cart's script run)."""

from __future__ import annotations

import difflib
import io
import json
import re
import shutil
import subprocess
import unicodedata

import pytest
from bs4 import BeautifulSoup
from PIL import Image

from ownllm.apps.sketch import (
    SketchError,
    SketchLayout,
    SketchNode,
    draw_sketch,
    find_font,
    price_of,
    read_sketch,
    render_ordering_app,
)

EN = {"title": "Noodle House", "button": "Place order", "boxes": [
    {"label": "Menu", "items": ["Beef noodles ¥18", "Wonton soup ¥12", "Fried rice ¥15"]},
    {"label": "Drinks", "row": True, "items": ["Tea ¥5", "Cola ¥6"]}]}
ZH = {"title": "面馆点餐", "button": "提交订单", "boxes": [
    {"label": "菜单", "items": ["牛肉面 ¥18", "馄饨汤 ¥12", "蛋炒饭 ¥15"]},
    {"label": "饮料", "row": True, "items": ["绿茶 ¥5", "可乐 ¥6"]}]}


def _norm(text: str) -> str:
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", text)).lower()


def _similar(a: str, b: str) -> bool:
    return difflib.SequenceMatcher(None, _norm(a), _norm(b)).ratio() >= 0.8


def _drawn(spec: dict) -> list[str]:
    return [spec["title"], spec["button"], *(b["label"] for b in spec["boxes"]),
            *(i for b in spec["boxes"] for i in b["items"])]


def _recovery(spec: dict, layout: SketchLayout) -> float:
    return sum(any(_similar(d, r) for r in layout.labels) for d in _drawn(spec)) / len(_drawn(spec))


def _holder(node: SketchNode, text: str) -> SketchNode | None:
    """The box (or the screen) whose direct label reads `text`."""
    for child in node.children:
        found = (node if _similar(child.text, text) else None) if child.kind == "label" else _holder(child, text)
        if found is not None:
            return found
    return None


def _check_nesting(spec: dict, layout: SketchLayout) -> None:
    for drawn in spec["boxes"]:
        box = _holder(layout.root, drawn["label"])
        assert box is not None and box.kind == "box", f"no box read around {drawn['label']!r}:\n{layout.outline()}"
        assert box.children[0].kind == "label" and _similar(box.children[0].text, drawn["label"])
        for item in drawn["items"]:
            assert _holder(layout.root, item) is box, f"{item!r} not under {drawn['label']!r}:\n{layout.outline()}"
    button = _holder(layout.root, spec["button"])
    assert button is not None and button.kind == "box" and _similar(button.text, spec["button"])
    assert _holder(layout.root, spec["title"]) is layout.root  # the title sits on the screen itself


@pytest.fixture(scope="module")
def cjk_font() -> str:
    try:
        return find_font(cjk=True)
    except RuntimeError as exc:
        pytest.skip(str(exc))


@pytest.fixture(scope="module")
def english() -> SketchLayout:
    return read_sketch(draw_sketch(EN), "noodles.png")


@pytest.fixture(scope="module")
def chinese(cjk_font: str) -> SketchLayout:
    return read_sketch(draw_sketch(ZH), "面馆.png")


def test_english_sketch_reads_back_into_its_boxes(english: SketchLayout) -> None:
    assert _recovery(EN, english) >= 0.9, english.labels
    _check_nesting(EN, english)
    assert english.root.kind == "screen"
    outline = english.outline().splitlines()
    assert outline[0] == "screen" and "  box: Menu" in outline
    assert any(re.fullmatch(r" {4}label: Beef noodles ¥ ?18", line) for line in outline), outline
    assert [_norm(t) for t in english.labels[:3]] == ["noodlehouse", "menu", "beefnoodles¥18"]


def test_chinese_sketch_reads_back_into_its_boxes(chinese: SketchLayout) -> None:
    assert _recovery(ZH, chinese) >= 0.9, chinese.labels
    _check_nesting(ZH, chinese)
    assert price_of(next(t for t in chinese.labels if "牛肉面" in t)) == 18


@pytest.mark.parametrize("spec", [EN, ZH], ids=["en", "zh"])
def test_hand_drawn_photo_still_reads(spec: dict, request: pytest.FixtureRequest) -> None:
    if spec is ZH:
        request.getfixturevalue("cjk_font")
    layout = read_sketch(draw_sketch(spec, hand_drawn=True, seed=7), "photo.png")
    assert _recovery(spec, layout) >= 0.8, layout.labels
    holder = _holder(layout.root, spec["boxes"][0]["items"][0])
    assert holder is not None and holder.kind == "box"


def test_jpeg_photo_turned_by_exif_with_a_shadow() -> None:
    image = Image.open(io.BytesIO(draw_sketch(EN, hand_drawn=True, seed=2))).resize((1000, 1060))
    shadow = Image.linear_gradient("L").rotate(90).resize(image.size).point(lambda v: 255 - v * 0.35)
    image = Image.composite(image, Image.new("RGB", image.size), shadow).rotate(-90, expand=True)
    exif = Image.Exif()
    exif[0x0112] = 8  # stored turned; the viewer turns it back
    out = io.BytesIO()
    image.save(out, "JPEG", quality=80, exif=exif)
    layout = read_sketch(out.getvalue(), "photo.jpg")
    assert layout.labels and _similar(layout.labels[0], "Noodle House"), layout.labels
    assert _recovery(EN, layout) >= 0.8
    _check_nesting(EN, layout)


def test_see_through_webp_drawing_reads_on_white() -> None:
    ink = Image.open(io.BytesIO(draw_sketch({"title": "Cafe", "boxes": [{"label": "Coffee", "items": ["Latte ¥22"]}]})))
    drawing = Image.new("RGBA", ink.size, (0, 0, 0, 0))  # black strokes on a transparent canvas
    drawing.putalpha(ink.convert("L").point(lambda v: 255 - v))
    out = io.BytesIO()
    drawing.save(out, "WEBP", lossless=True)
    outline = read_sketch(out.getvalue(), "cafe.webp").outline()
    assert outline == "screen\n  label: Cafe\n  box: Coffee\n    label: Latte ¥22"


def test_drawing_is_deterministic_by_seed() -> None:
    assert draw_sketch(EN, hand_drawn=True, seed=1) == draw_sketch(EN, hand_drawn=True, seed=1)
    assert draw_sketch(EN, hand_drawn=True, seed=1) != draw_sketch(EN, hand_drawn=True, seed=2)
    assert Image.open(io.BytesIO(draw_sketch(EN))).format == "PNG"


def _png(image: Image.Image) -> bytes:
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


@pytest.mark.parametrize(("image", "reason"), [
    (Image.new("RGB", (400, 400), "white"), "no text found"),
    (Image.new("RGB", (40, 40), "black"), "too small"),
    (Image.new("1", (8000, 5001)), "megapixels"),
], ids=["blank", "tiny", "huge"])
def test_unusable_images_are_refused_naming_the_file(image: Image.Image, reason: str) -> None:
    with pytest.raises(SketchError, match=rf"^scan\.png: .*{reason}"):
        read_sketch(_png(image), "scan.png")


def test_boxes_without_text_and_non_images_are_refused() -> None:
    from PIL import ImageDraw

    image = Image.new("RGB", (300, 300), "white")
    ImageDraw.Draw(image).rectangle((40, 40, 260, 200), outline="black", width=3)
    with pytest.raises(SketchError, match=r"^boxes\.png: no text found in the sketch"):
        read_sketch(_png(image), "boxes.png")
    with pytest.raises(SketchError, match=r"^notes\.txt: "):
        read_sketch(b"just some text", "notes.txt")


@pytest.mark.parametrize(("label", "price"), [
    ("¥18", 18), ("18元", 18), ("$4.50", 4.5), ("4.50", 4.5), ("牛肉面 ¥18", 18), ("牛肉面 18元/碗", 18),
    ("￥ 12.5", 12.5), ("Tea 4.50", 4.5), ("1,200元", 1200), ("4,50 €", 4.5), ("RMB 30", 30), ("12", 12),
    ("Beef noodles", None), ("Table 3", None), ("Cola 330ml", None), ("", None), ("第2桌", None),
])
def test_price_of(label: str, price: float | None) -> None:
    assert price_of(label) == price


HOSTILE = "<script>alert(1)</script>"
APP = {"title": "Noodle House", "order_button": "Place order", "notes": "Spicy on request & no MSG",
       "sections": [{"name": "Menu", "items": [{"name": "Beef noodles", "price": 18},
                                               {"name": "Wonton soup", "price": "¥12"},
                                               {"name": HOSTILE, "price": 4.5}]},
                    {"name": "Drinks </script><b>", "items": [{"name": "Tea</script>", "price": 5}]}]}


def test_app_lists_every_item_and_escapes_everything() -> None:
    page = render_ordering_app(APP)
    for text in ("Beef noodles", "Wonton soup", "18", "12", "4.50", "Spicy on request &amp; no MSG"):
        assert text in page
    assert "http" not in page and "//" not in page.replace("://", "")
    assert HOSTILE not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert page.count("</script>") == 2 and page.lower().count("<script") == 2
    assert "<b>" not in page
    soup = BeautifulSoup(page, "html.parser")
    assert soup.html["lang"] == "en" and soup.title.text == "Noodle House"
    assert len(soup.select("button.plus")) == len(soup.select("button.minus")) == 4
    assert soup.find(id="total") and soup.find(id="order").text == "Place order" and soup.find(id="summary")
    assert "Cart" in page and "Total" in page
    data = json.loads(soup.find(id="app-data").string)
    assert [i["name"] for i in data["items"]][2:] == [HOSTILE, "Tea</script>"]
    assert [i["price"] for i in data["items"]] == [18, 12, 4.5, 5]


def test_app_in_chinese_and_bad_descriptions() -> None:
    page = render_ordering_app({"title": "面馆", "sections": [{"name": "菜单", "items": [
        {"name": "牛肉面", "price": 18}]}], "order_button": "提交订单"}, lang="zh-CN")
    assert '<html lang="zh-CN">' in page and "购物车" in page and "合计" in page and "¥18" in page
    assert '<html lang="en">' in render_ordering_app(APP, lang='"><script>')
    for bad in ({}, {"sections": []}, {"sections": [{"name": "x", "items": [{"name": "", "price": 1}]}]},
                {"sections": [{"name": "x", "items": [{"name": "a", "price": "free"}]}]},
                {"sections": [{"name": "x", "items": [{"name": "a", "price": -2}]}]}):
        with pytest.raises(ValueError):
            render_ordering_app(bad)


_DOM = """
class El { constructor(id) { this.id = id; this.kids = []; this.text = ""; this.hidden = true; this.on = {};
  this.attrs = {}; this.classes = []; this.classList = {contains: (c) => this.classes.includes(c)}; }
  get textContent() { return this.text + this.kids.map((k) => k.textContent).join("\\n"); }
  set textContent(v) { this.text = v; this.kids = []; }
  appendChild(k) { this.kids.push(k); } addEventListener(t, f) { this.on[t] = f; }
  getAttribute(a) { return this.attrs[a]; } click() { this.on.click(); } }
const els = {};
const buttons = BUTTONS.map(([id, cls]) => Object.assign(new El(), {attrs: {"data-id": String(id)}, classes: [cls]}));
globalThis.document = {getElementById: (id) => els[id] || (els[id] = new El(id)),
  createElement: () => new El(), querySelectorAll: () => buttons};
els["app-data"] = new El("app-data"); els["app-data"].text = DATA;
"""


@pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")
def test_cart_script_counts_and_totals_in_node(tmp_path) -> None:
    """The page's own script, run against a tiny stand-in DOM: +/- change quantities, the total follows,
    and the order button shows the summary."""
    soup = BeautifulSoup(render_ordering_app(APP), "html.parser")
    buttons = [[int(b["data-id"]), b["class"][0]] for b in soup.select("button[data-id]")]
    script = soup.find_all("script")[-1].string
    drive = """
const press = (id, cls) => buttons.find((b) => b.attrs["data-id"] === String(id) && b.classes[0] === cls).click();
press(0, "plus"); press(0, "plus"); press(2, "plus"); press(1, "minus"); press(0, "minus"); press(3, "plus");
const el = (id) => document.getElementById(id);
const before = el("summary").hidden; el("order").click();
console.log(JSON.stringify({total: el("total").textContent, q0: el("qty-0").textContent, q1: el("qty-1").textContent,
  lines: el("summary-items").kids.length, before, after: el("summary").hidden,
  summary: el("summary-total").textContent}));
"""
    program = (_DOM.replace("BUTTONS", json.dumps(buttons))
               .replace("DATA", json.dumps(soup.find(id="app-data").string)) + script + drive)
    (tmp_path / "app.js").write_text(program, encoding="utf-8")
    out = subprocess.run(["node", str(tmp_path / "app.js")], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    state = json.loads(out.stdout)
    assert state == {"total": "$27.50", "q0": "1", "q1": "0", "lines": 3, "before": True, "after": False,
                     "summary": "Total: $27.50"}
