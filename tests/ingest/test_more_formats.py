"""Formats people actually have, built here byte by byte so each case is exact: subtitles, JSON and XML as
text, RTF, OpenDocument, a Word table with a broken grid, HEIF photos, executables; and the layout rules
(columns, right-to-left rows, fake bold) on positioned lines."""

from __future__ import annotations

import io
import zipfile

import pytest

from ownllm.ingest.chunk import layout
from ownllm.ingest.detect import detect_type
from ownllm.ingest.layout import Line, merge_segments, paragraphs, reading_order
from ownllm.ingest.parsed import ParseError, UnsupportedType
from ownllm.ingest.parsers import REFUSALS, SUPPORTED_TYPES, parse, valid_unicode


def _read(data: bytes, name: str) -> tuple[str, str]:
    kind = detect_type(data, name).type
    return kind, layout(parse(data, kind, name))[0]


def test_subtitles_become_timed_text_without_cue_markup() -> None:
    vtt = (b"WEBVTT\n\n00:00:01.000 --> 00:00:04.000\n<v Ana>Returns are free for 45 days.\n\n"
           b"00:01:10.500 --> 00:01:13.000\nThe hotline opens at eight.\n")
    kind, text = _read(vtt, "talk.vtt")
    document = parse(vtt, kind, "talk.vtt")
    assert kind == "vtt" and "Returns are free for 45 days." in text and "-->" not in text and "<v" not in text
    assert [unit.kind for unit in document.units] == ["time", "time"]
    assert document.units[1].label.startswith("00:01:10")
    srt = b"1\n00:00:02,000 --> 00:00:05,000\nHello there\n\n2\n00:00:06,000 --> 00:00:08,000\nSecond line\n"
    kind, text = _read(srt, "clip.srt")
    assert kind == "srt" and text.split() == ["Hello", "there", "Second", "line"]


def test_json_and_xml_are_read_as_their_text_not_their_markup() -> None:
    kind, text = _read(b'{"product": {"name": "VM-B540", "warranty": {"years": 10}}, "tags": ["ebike"]}', "p.json")
    assert kind == "json" and "product.warranty.years: 10" in text and "{" not in text
    kind, text = _read(b'<?xml version="1.0"?><policy><title>Returns</title><days>45</days></policy>', "p.xml")
    assert kind == "xml" and "Returns" in text and "45" in text and "<" not in text
    bomb = b'<?xml version="1.0"?><!DOCTYPE l [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;&a;">]><l>&b;</l>'
    with pytest.raises(ParseError, match="refused"):
        parse(bomb, detect_type(bomb, "bomb.xml").type, "bomb.xml")


def test_rtf_reads_headers_footnotes_text_boxes_and_tables_in_its_code_page() -> None:
    rtf = (rb"{\rtf1\ansi\ansicpg1252\deff0{\fonttbl{\f0 Arial;}}{\header Running head text\par}"
           rb"Body caf\'e9 text{\footnote A footnote here\par}\par"
           rb"{\shp{\*\shpinst{\sp{\sn fillColor}{\sv 255}}{\shptxt Boxed words\par}}}"
           rb"\trowd\cellx1000\cellx2000 A1\cell B1\cell\row\trowd\cellx1000\cellx2000 A2\cell B2\cell\row"
           rb" Gothic \u-10240?\u-8398? end\par}")
    kind, text = _read(rtf, "memo.rtf")
    assert kind == "rtf" and "{\\rtf" not in text
    for phrase in ("Running head text", "Body café text", "A footnote here", "Boxed words", "| A2 | B2 |"):
        assert phrase in text, phrase
    assert "\U00010332" in text  # a character outside the BMP, written as two \u halves, joined


def _zip(parts: dict[str, str], first: str | None = None) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as package:
        if first:
            package.writestr("mimetype", first, compress_type=zipfile.ZIP_STORED)
        for name, content in parts.items():
            package.writestr(name, content)
    return buffer.getvalue()


ODF = ('xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
       'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" '
       'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
       'xmlns:draw="urn:oasis:names:tc:opendocument:xmlns:drawing:1.0"')


def test_opendocument_text_is_one_document_with_notes_frames_and_tables() -> None:
    content = (f'<office:document-content {ODF}><office:body><office:text>'
               '<text:h text:outline-level="1">Warranty</text:h>'
               '<text:p>Frames last ten years<text:note text:note-class="footnote"><text:note-body>'
               '<text:p>Only for the first owner</text:p></text:note-body></text:note>.</text:p>'
               '<draw:frame><draw:text-box><text:p>Shape text</text:p></draw:text-box></draw:frame>'
               '<table:table><table:table-row><table:table-cell><text:p>Part</text:p></table:table-cell>'
               '<table:table-cell><text:p>Years</text:p></table:table-cell></table:table-row>'
               '<table:table-row><table:table-cell><text:p>Frame</text:p></table:table-cell>'
               '<table:table-cell><text:p>10</text:p></table:table-cell></table:table-row></table:table>'
               '</office:text></office:body></office:document-content>')
    data = _zip({"content.xml": content}, first="application/vnd.oasis.opendocument.text")
    kind, text = _read(data, "policy.odt")
    assert kind == "odt"
    assert "Frames last ten years." in text and "Only for the first owner" in text and "Shape text" in text
    assert "| Frame | 10 |" in text and "<text:" not in text


def test_a_word_table_with_a_broken_grid_costs_only_that_table() -> None:
    import docx

    document = docx.Document()
    document.add_paragraph("Before the table.")
    table = document.add_table(rows=2, cols=2)
    table.cell(0, 0).text, table.cell(0, 1).text = "Part", "Price"
    table.cell(1, 0).text, table.cell(1, 1).text = "Frame", "410"
    document.add_paragraph("After the table.")
    # a cell merged down from a row that has no cell at its grid column: python-docx raises
    # "no `tc` element at grid_offset=1" and, unguarded, the whole document would be lost
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    merge = OxmlElement("w:vMerge")
    merge.set(qn("w:val"), "continue")
    table._tbl.tr_lst[1].tc_lst[1].get_or_add_tcPr().append(merge)
    first_row = table._tbl.tr_lst[0]
    first_row.remove(first_row.tc_lst[1])
    buffer = io.BytesIO()
    document.save(buffer)
    parsed = parse(buffer.getvalue(), "docx", "broken.docx")
    text = layout(parsed)[0]
    assert "Before the table." in text and "After the table." in text and "Frame" in text
    assert any("broken grid" in flag or "malformed table" in flag for flag in parsed.flags), parsed.flags


def test_heif_photos_are_images_and_programs_and_noise_are_refused_by_name() -> None:
    heic = b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic" + b"\x00" * 64
    assert detect_type(heic, "IMG_0001.HEIC").type == "heic" and "heic" in SUPPORTED_TYPES
    assert detect_type(b"\x00\x00\x00\x18ftypisom" + b"\x00" * 64, "clip.mp4").type == "mp4"
    with pytest.raises(ParseError, match="image is damaged or unreadable"):  # not "no audio track"
        parse(heic, "heic", "IMG_0001.HEIC")
    program = b"MZ" + b"\x90" * 58 + b"\x80\x00\x00\x00" + b"\x00" * 64 + b"PE\x00\x00" + b"\x00" * 200
    assert detect_type(program, "setup.exe").type == "executable"
    assert detect_type(b"\x7fELF\x02\x01\x01" + b"\x00" * 100, "tool").type == "executable"
    for kind in ("executable", "binary"):
        assert kind not in SUPPORTED_TYPES and "not" in REFUSALS[kind]
        with pytest.raises(UnsupportedType):
            parse(b"x", kind, "x")


def test_unpaired_surrogates_never_reach_storage() -> None:
    assert valid_unicode("ok \ud800\udf32 and \udc00") == "ok \U00010332 and \ufffd"


def _column(x: float, top: float, rows: int, text: str, order: int = 0) -> list[Line]:
    return [Line(f"{text} line {i + 1} of this column", x, top + 12 * i, x + 180, top + 12 * i + 10,
                 order + i if order else 0) for i in range(rows)]


def test_columns_are_read_one_after_the_other_and_a_title_across_them_first() -> None:
    title = [Line("A title across both columns of the page", 40, 10, 400, 24)]
    lines = title + _column(40, 40, 5, "Left") + _column(240, 40, 5, "Right")
    order = [line.text for column in reading_order(lines) for line in column]
    assert order[0].startswith("A title")
    assert order[1:6] == [f"Left line {i} of this column" for i in range(1, 6)]
    assert order[6:] == [f"Right line {i} of this column" for i in range(1, 6)]
    # two lines per side are columns only when the source drew one side before the other
    drawn = _column(40, 40, 2, "Left", order=1) + _column(240, 40, 2, "Right", order=10)
    assert len(reading_order(drawn)) == 2
    assert len(reading_order(_column(40, 40, 2, "Left") + _column(240, 40, 2, "Right"))) == 1


def test_a_table_of_short_cells_is_not_taken_for_columns_and_a_caption_between_columns_floats() -> None:
    cells = [Line(label, x, 20 + 12 * row, x + 30, 30 + 12 * row) for row in range(6)
             for x, label in ((40, "Qty"), (240, "Price"))]
    assert len(reading_order(cells)) == 1
    caption = [Line("A CAPTION SET BETWEEN THE COLUMNS", 150, 64, 400, 74)]
    lines = _column(40, 40, 6, "Left") + _column(320, 40, 6, "Right") + caption
    # the columns run on beside the caption, so it does not cut them: both columns, then the caption
    order = [line.text for column in reading_order(lines) for line in column]
    assert order[:6] == [f"Left line {i} of this column" for i in range(1, 7)]
    assert order[-1].startswith("A CAPTION")


def test_rows_join_pieces_right_to_left_drop_fake_bold_and_keep_chinese_unspaced() -> None:
    rtl = merge_segments([Line("עולם", 100, 10, 132, 20, 5), Line("שלום", 135, 10, 165, 20, 1)])
    assert [line.text for line in rtl] == ["שלום עולם"]
    bold = merge_segments([Line("Total", 10, 10, 40, 20, 1), Line("Total", 10.4, 10.2, 40.4, 20.2, 5)])
    assert [line.text for line in bold] == ["Total"]
    chinese = paragraphs(merge_segments([Line("退货期限为四十", 10, 10, 80, 20, 1), Line("五天。", 10, 24, 40, 34, 9)]))
    assert chinese == ["退货期限为四十五天。"]
