"""Legacy binary Office files and Outlook messages, all OLE2 compound files, read with olefile (and xlrd
for .xls): the formats people still have in their drop-boxes.

- `.doc`: the text runs of the piece table (MS-DOC's CLX), with field instructions dropped and their
  results kept; body first, then footnotes, headers, comments, endnotes and text boxes.
- `.ppt`: the text atoms of each slide (MS-PPT's SlideListWithText), then the notes pages.
- `.xls`: each sheet as tables with the header repeated, like XLSX.
- `.msg`: sender, recipients, date, subject and body; attachments become member files, like EML.
"""

from __future__ import annotations

import datetime as dt
import io
import re
import struct

from ownllm.ingest.parsed import Attachment, Block, ParsedDocument, ParseError, Unit
from ownllm.ingest.parsers.options import ParseOptions

_CONTROL = re.compile(r"[\x00-\x08\x0e-\x1f]")


def _open(data: bytes):  # type: ignore[no-untyped-def]
    import olefile

    try:
        return olefile.OleFileIO(io.BytesIO(data))
    except Exception as exc:
        raise ParseError(f"OLE compound file is damaged: {exc}") from exc


def parse_encrypted_office(data: bytes, name: str, options: ParseOptions) -> ParsedDocument:
    raise ParseError("Office file is encrypted with a password (cannot be read without it)")


def parse_unknown_ole(data: bytes, name: str, options: ParseOptions) -> ParsedDocument:
    with _open(data) as ole:
        streams = ", ".join("/".join(entry) for entry in ole.listdir()[:6])
    raise ParseError(f"OLE compound file is not a Word, Excel, PowerPoint or Outlook file (streams: {streams})")


# ---------------------------------------------------------------- Word 97-2003 (.doc)
def _word_fields(text: str) -> str:
    """Keep a field's result, drop its instruction: 0x13 instruction 0x14 result 0x15 (fields nest)."""
    out: list[str] = []
    stack: list[bool] = []  # per open field: are we past its separator (in the result)?
    for ch in text:
        if ch == "\x13":
            stack.append(False)
        elif ch == "\x14" and stack:
            stack[-1] = True
        elif ch == "\x15" and stack:
            stack.pop()
        elif all(stack):
            out.append(ch)
    return "".join(out)


def _word_clean(text: str) -> str:
    text = _word_fields(text)
    text = text.replace("\x07", "\t").replace("\r", "\n").replace("\x0b", "\n").replace("\x0c", "\n")
    text = text.replace("\x1e", "-").replace("\x1f", "")
    return _CONTROL.sub("", text)


def parse_doc(data: bytes, name: str, options: ParseOptions) -> ParsedDocument:
    with _open(data) as ole:
        if not ole.exists("WordDocument"):
            raise ParseError("not a Word document (no WordDocument stream)")
        word = ole.openstream("WordDocument").read()
        if len(word) < 0x200 or struct.unpack_from("<H", word, 0)[0] != 0xA5EC:
            raise ParseError("Word document header is damaged")
        flags = struct.unpack_from("<H", word, 0x0A)[0]
        if flags & 0x0100:
            raise ParseError("Word document is encrypted with a password (cannot be read without it)")
        table_name = "1Table" if flags & 0x0200 else "0Table"
        if not ole.exists(table_name):
            raise ParseError(f"Word document is damaged: its {table_name} stream is missing")
        table = ole.openstream(table_name).read()
    csw = struct.unpack_from("<H", word, 32)[0]
    lw_start = 34 + 2 * csw + 2
    cslw = struct.unpack_from("<H", word, 34 + 2 * csw)[0]
    ccp = struct.unpack_from("<11i", word, lw_start + 12)  # ccpText, Ftn, Hdd, Mcr, Atn, Edn, Txbx, HdrTxbx…
    blob = lw_start + 4 * cslw + 2
    fc_clx, lcb_clx = struct.unpack_from("<II", word, blob + 33 * 8)
    clx = table[fc_clx: fc_clx + lcb_clx]
    pos = 0
    while pos < len(clx) and clx[pos] == 0x01:  # Prc entries (formatting) come first
        pos += 3 + struct.unpack_from("<h", clx, pos + 1)[0]
    if pos >= len(clx) or clx[pos] != 0x02:
        raise ParseError("Word document is damaged: no piece table")
    lcb = struct.unpack_from("<I", clx, pos + 1)[0]
    plc = clx[pos + 5: pos + 5 + lcb]
    pieces = (lcb - 4) // 12
    cps = struct.unpack_from(f"<{pieces + 1}I", plc, 0)
    text_parts = []
    for index in range(pieces):
        fc_raw = struct.unpack_from("<I", plc, 4 * (pieces + 1) + 8 * index + 2)[0]
        length = cps[index + 1] - cps[index]
        if fc_raw & 0x40000000:  # 8-bit text at fc / 2
            start = (fc_raw & 0x3FFFFFFF) // 2
            text_parts.append(word[start: start + length].decode("cp1252", errors="replace"))
        else:
            start = fc_raw & 0x3FFFFFFF
            text_parts.append(word[start: start + 2 * length].decode("utf-16-le", errors="replace"))
    text = "".join(text_parts)
    names = ("", "Footnotes", "Headers and footers", "", "Comments", "Endnotes", "Text boxes", "Header text boxes")
    blocks: list[Block] = []
    cursor = 0
    for heading, length in zip(names, ccp[:8], strict=False):
        if length <= 0:
            continue
        part = _word_clean(text[cursor: cursor + length])
        cursor += length
        paragraphs = [p.strip() for p in part.split("\n") if p.strip()]
        if paragraphs and heading:
            blocks.append(Block(heading, "heading", 2))
        blocks += [Block(p) for p in paragraphs]
    if not blocks:
        raise ParseError("Word document holds no text")
    return ParsedDocument("", [Unit("section", None, blocks)], "doc-piece-table")


# ---------------------------------------------------------------- PowerPoint 97-2003 (.ppt)
_SLIDE_LIST, _SLIDE_PERSIST, _NOTES, _TEXT_CHARS, _TEXT_BYTES = 0x0FF0, 0x03F3, 0x03F0, 0x0FA0, 0x0FA8
_SLIDE, _MAIN_MASTER = 0x03EE, 0x03F8


def _ppt_records(stream: bytes, start: int, end: int, visit, depth: int = 0) -> None:  # type: ignore[no-untyped-def]
    pos = start
    while pos + 8 <= end and depth < 32:
        ver_instance, kind, length = struct.unpack_from("<HHI", stream, pos)
        body = pos + 8
        if body + length > end:
            return
        visit(kind, ver_instance >> 4, stream[body: body + length] if kind in (_TEXT_CHARS, _TEXT_BYTES) else None,
              depth)
        if ver_instance & 0x0F == 0x0F:
            _ppt_records(stream, body, body + length, visit, depth + 1)
            visit(-kind, 0, None, depth)  # leaving the container
        pos = body + length


def parse_ppt(data: bytes, name: str, options: ParseOptions) -> ParsedDocument:
    with _open(data) as ole:
        if not ole.exists("PowerPoint Document"):
            raise ParseError("not a PowerPoint file (no PowerPoint Document stream)")
        stream = ole.openstream("PowerPoint Document").read()
    listed: list[list[str]] = []  # placeholder text, kept in the slide list (SlideListWithText, instance 0)
    drawn: list[list[str]] = []  # text boxes drawn on each Slide container
    notes: list[list[str]] = []
    state: dict[str, object] = {"list": None, "in": None}

    def visit(kind: int, instance: int, body: bytes | None, depth: int) -> None:
        if kind == _SLIDE_LIST:
            state["list"] = instance  # 0: slides, 1: master, 2: notes
        elif kind == -_SLIDE_LIST:
            state["list"] = None
        elif kind == _SLIDE:
            state["in"] = "slide"
            drawn.append([])
        elif kind == _NOTES:
            # notes met before any slide belong to the notes master ("Click to edit Master text styles")
            state["in"] = "notes" if drawn else "master"
            if state["in"] == "notes":
                notes.append([])
        elif kind == _MAIN_MASTER:
            state["in"] = "master"
        elif kind in (-_SLIDE, -_NOTES, -_MAIN_MASTER):
            state["in"] = None
        elif kind == _SLIDE_PERSIST and state["list"] == 0:
            listed.append([])
        elif body is not None:
            text = body.decode("utf-16-le" if kind == _TEXT_CHARS else "cp1252", errors="replace")
            text = _CONTROL.sub("", text.replace("\r", "\n").replace("\x0b", "\n")).strip()
            if not text or text == "*":  # "*" stands for the slide number field
                return
            if state["list"] == 0 and listed:
                listed[-1].append(text)
            elif state["in"] == "slide":
                drawn[-1].append(text)
            elif state["in"] == "notes":
                notes[-1].append(text)

    _ppt_records(stream, 0, len(stream), visit)
    units = []
    for number in range(1, max(len(listed), len(drawn)) + 1):
        texts = listed[number - 1] if number <= len(listed) else []
        texts = texts + [t for t in (drawn[number - 1] if number <= len(drawn) else []) if t not in texts]
        blocks = [Block(text) for text in texts]
        spoken = [t for t in (notes[number - 1] if number <= len(notes) else []) if not t.isdigit()]
        if spoken:
            blocks.append(Block("Speaker notes: " + " ".join(spoken), "notes"))
        units.append(Unit("slide", number, blocks, label=texts[0][:120] if texts else None))
    if not any(u.blocks for u in units):
        raise ParseError("PowerPoint file holds no text")
    return ParsedDocument("", units, "ppt-records")


# ---------------------------------------------------------------- Excel 97-2003 (.xls)
def parse_xls(data: bytes, name: str, options: ParseOptions) -> ParsedDocument:
    import xlrd

    from ownllm.ingest.parsers.tabular import split_tables, table_blocks

    try:
        book = xlrd.open_workbook(file_contents=data, on_demand=True)
    except Exception as exc:
        raise ParseError(f"Excel .xls file could not be read: {exc}") from exc
    units, cells = [], 0
    for index in range(book.nsheets):
        sheet = book.sheet_by_index(index)
        cells += sheet.nrows * sheet.ncols
        if cells > options.limits.max_sheet_cells:
            raise ParseError(f"workbook has more than {options.limits.max_sheet_cells} cells")
        rows = [[_xls_cell(sheet.cell(r, c), book.datemode) for c in range(sheet.ncols)] for r in range(sheet.nrows)]
        blocks = [block for table in split_tables(rows) for block in table_blocks(table)]
        units.append(Unit("sheet", index + 1, blocks, label=sheet.name))
        book.unload_sheet(index)
    if not any(u.blocks for u in units):
        raise ParseError("Excel .xls file holds no cells with values")
    return ParsedDocument("", units, "xlrd")


def _xls_cell(cell, datemode: int) -> str:  # type: ignore[no-untyped-def]
    import xlrd

    if cell.ctype == xlrd.XL_CELL_NUMBER:
        value = cell.value
        return str(int(value)) if float(value).is_integer() else f"{value:g}"
    if cell.ctype == xlrd.XL_CELL_DATE:
        try:
            return xlrd.xldate.xldate_as_datetime(cell.value, datemode).isoformat(sep=" ").removesuffix(" 00:00:00")
        except Exception:
            return str(cell.value)
    if cell.ctype == xlrd.XL_CELL_BOOLEAN:
        return "TRUE" if cell.value else "FALSE"
    if cell.ctype in (xlrd.XL_CELL_EMPTY, xlrd.XL_CELL_BLANK, xlrd.XL_CELL_ERROR):
        return ""
    return str(cell.value).strip()


# ---------------------------------------------------------------- Outlook (.msg)
def _msg_string(ole, storage: str, prop: str, codepage: str) -> str:  # type: ignore[no-untyped-def]
    for suffix, encoding in (("001F", "utf-16-le"), ("001E", codepage)):
        path = f"{storage}__substg1.0_{prop}{suffix}"
        if ole.exists(path):
            return ole.openstream(path).read().decode(encoding, errors="replace").rstrip("\x00").strip()
    return ""


def _msg_properties(ole, storage: str, header: int) -> dict[int, bytes]:  # type: ignore[no-untyped-def]
    """Fixed-size properties (dates, numbers) from a `__properties_version1.0` stream, by property id."""
    path = f"{storage}__properties_version1.0"
    if not ole.exists(path):
        return {}
    raw = ole.openstream(path).read()
    out = {}
    for pos in range(header, len(raw) - 15, 16):
        _, prop_id = struct.unpack_from("<HH", raw, pos)
        out[prop_id] = raw[pos + 8: pos + 16]
    return out


def parse_msg(data: bytes, name: str, options: ParseOptions) -> ParsedDocument:
    from ownllm.ingest.parsers.archive import unsafe_member_reason
    from ownllm.ingest.parsers.html import html_to_blocks

    with _open(data) as ole:
        props = _msg_properties(ole, "", 32)
        codepage = "cp1252"
        # 8-bit strings are in the message's code page, or failing that its internet code page (Big5 = 950…)
        for prop in (0x3FFD, 0x3FDE):  # PR_MESSAGE_CODEPAGE, PR_INTERNET_CPID
            if prop in props:
                number = struct.unpack_from("<I", props[prop])[0]
                codepage = f"cp{number}" if number not in (1200, 65001) else "utf-8"
                break
        try:
            "".encode(codepage)
        except LookupError:
            codepage = "cp1252"
        subject = _msg_string(ole, "", "0037", codepage)
        sender = _msg_string(ole, "", "0C1A", codepage)
        address = _msg_string(ole, "", "0C1F", codepage) or _msg_string(ole, "", "5D01", codepage)
        to, cc = _msg_string(ole, "", "0E04", codepage), _msg_string(ole, "", "0E03", codepage)
        body = _msg_string(ole, "", "1000", codepage)
        html = b""
        if not body and ole.exists("__substg1.0_10130102"):
            html = ole.openstream("__substg1.0_10130102").read()
        attachments = []
        for entry in ole.listdir(streams=False, storages=True):
            if len(entry) != 1 or not entry[0].startswith("__attach_version1.0_"):
                continue
            storage = entry[0] + "/"
            filename = _msg_string(ole, storage, "3707", codepage) or _msg_string(ole, storage, "3704", codepage)
            if not ole.exists(f"{storage}__substg1.0_37010102"):
                continue  # an embedded message or OLE object: not a file
            content = ole.openstream(f"{storage}__substg1.0_37010102").read()
            filename = filename or f"attachment-{len(attachments) + 1}"
            if unsafe_member_reason(filename):
                filename = filename.replace("\\", "/").rsplit("/", 1)[-1] or f"attachment-{len(attachments) + 1}"
            attachments.append(Attachment(filename, content))
    if not (subject or sender or body or html or attachments):
        raise ParseError("Outlook message holds no subject, sender, body or attachments")
    header = [f"Subject: {subject}" if subject else "", f"From: {sender} <{address}>" if address else
              (f"From: {sender}" if sender else ""), f"To: {to}" if to else "", f"Cc: {cc}" if cc else ""]
    if 0x0039 in props:  # PR_CLIENT_SUBMIT_TIME, a FILETIME
        ticks = struct.unpack_from("<Q", props[0x0039])[0]
        if ticks:
            sent = dt.datetime(1601, 1, 1, tzinfo=dt.UTC) + dt.timedelta(microseconds=ticks // 10)
            header.append(f"Date: {sent.isoformat(timespec='minutes')}")
    blocks = [Block("\n".join(line for line in header if line))]
    if body:
        blocks += [Block(p.strip()) for p in re.split(r"\r?\n\s*\r?\n", body) if p.strip()]
    elif html:
        from ownllm.ingest.textcodec import decode_text

        blocks += html_to_blocks(decode_text(html).text)[1]
    return ParsedDocument(subject, [Unit("section", None, blocks)], "msg-olefile", attachments=attachments)
