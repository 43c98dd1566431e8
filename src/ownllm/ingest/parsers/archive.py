"""Containers: ZIP archives and e-mails are opened safely and their members handed back.

Members are not parsed here: the pipeline ingests each as a file of its own, with the
container as parent. Zip bombs are stopped by member-count, total-size and ratio caps
checked against the headers *and* while reading (headers can lie); member names with
`..`, absolute paths or drive letters are refused (no path traversal, and nothing is
ever written to disk under a member's name anyway).
"""

from __future__ import annotations

import email
import email.policy
import io
import posixpath
import re
import zipfile
from email.message import EmailMessage

from ownllm.ingest.parsed import Attachment, Block, ParsedDocument, ParseError, Unit
from ownllm.ingest.parsers.html import html_to_blocks
from ownllm.ingest.parsers.options import ParseOptions
from ownllm.ingest.parsers.zip_limits import open_capped_zip
from ownllm.ingest.textcodec import decode_text

_DRIVE = re.compile(r"^[A-Za-z]:")


def unsafe_member_reason(member: str) -> str | None:
    if "\x00" in member:
        return "name contains a NUL byte"
    normalized = member.replace("\\", "/")
    if normalized.startswith("/") or _DRIVE.match(normalized):
        return "absolute path (path traversal refused)"
    if ".." in normalized.split("/"):
        return "'..' in path (path traversal refused)"
    return None


def parse_zip(data: bytes, name: str, options: ParseOptions) -> ParsedDocument:
    limits = options.limits
    archive, members = open_capped_zip(data, "ZIP", "members", limits)
    attachments, rejected, total = [], [], 0
    for member in members:
        reason = unsafe_member_reason(member.filename)
        if reason is None and member.flag_bits & 0x1:
            reason = "member is encrypted"
        ratio = member.file_size / member.compress_size if member.compress_size else 0.0
        if reason is None and ratio > limits.max_archive_ratio:
            reason = f"compression ratio {member.file_size // member.compress_size}:1 over the cap (zip bomb?)"
        if reason is not None:
            rejected.append((member.filename, reason))
            continue
        budget = limits.max_archive_total_bytes - total
        try:
            with archive.open(member) as stream:
                content = stream.read(min(budget, member.file_size) + 1)
        except (zipfile.BadZipFile, OSError, EOFError, ValueError, NotImplementedError) as exc:
            rejected.append((member.filename, f"member is damaged: {exc}"))
            continue
        if len(content) > member.file_size or len(content) > budget:
            raise ParseError("ZIP members unpack to more than their headers say, or over the size cap (zip bomb?)")
        total += len(content)
        attachments.append(Attachment(posixpath.normpath(member.filename.replace("\\", "/")), content))
    document = ParsedDocument("", [], "zipfile", attachments=attachments, rejected_members=rejected)
    if not attachments and not rejected:
        raise ParseError("ZIP archive is empty")
    return document


def _decode_part(part: EmailMessage) -> str:
    payload = part.get_payload(decode=True) or b""
    charset = part.get_content_charset()
    if charset:
        try:
            return payload.decode(charset, errors="replace")
        except LookupError:
            pass
    return decode_text(payload).text


def _walk_mime(part: EmailMessage, texts: list[EmailMessage], files: list[EmailMessage]) -> None:
    """The message's readable body parts in order, and its files, at any depth of the MIME tree.

    Of a multipart/alternative only the last (richest, RFC 2046) readable version is read, so the same body is
    not stored twice; of a multipart/related only the root is the body, the rest are its inline resources.
    """
    if part.is_multipart():
        children = list(part.iter_parts())
        subtype = part.get_content_subtype()
        if subtype == "alternative":
            readable = [c for c in children if c.is_multipart() or c.get_content_type() in ("text/plain", "text/html")]
            children = readable[-1:] or children[-1:]
        elif subtype == "related" and children:
            files += [c for c in children[1:] if c.get_filename()]
            children = children[:1]
        for child in children:
            _walk_mime(child, texts, files)  # type: ignore[arg-type]
        return
    disposition = (part.get_content_disposition() or "").lower()
    if disposition != "attachment" and part.get_content_type() in ("text/plain", "text/html"):
        texts.append(part)
    elif part.get_content_type() != "message/delivery-status":
        files.append(part)


def parse_eml(data: bytes, name: str, options: ParseOptions) -> ParsedDocument:
    """Headers and body become the e-mail's own document; attachments become member files."""
    decoded = decode_text(data)
    if decoded.encoding and decoded.encoding.replace("-", "").lower().startswith("utf16"):
        data = decoded.text.encode("utf-8")
    message = email.message_from_bytes(data, policy=email.policy.default)
    if not isinstance(message, EmailMessage) or not (message["From"] or message["Subject"] or message["To"]):
        raise ParseError("not an e-mail message (no From, To or Subject header)")
    header_lines = [f"{key}: {message[key]}" for key in ("Subject", "From", "To", "Cc", "Date") if message[key]]
    blocks = [Block("\n".join(header_lines))]
    texts: list[EmailMessage] = []
    files: list[EmailMessage] = []
    _walk_mime(message, texts, files)
    for part in texts:
        content = _decode_part(part)
        if part.get_content_subtype() == "html":
            blocks += html_to_blocks(content)[1]
        else:
            blocks += [Block(p.strip()) for p in re.split(r"\n\s*\n", content) if p.strip()]
    attachments = []
    for index, part in enumerate(files, start=1):
        filename = part.get_filename() or f"attachment-{index}"
        reason = unsafe_member_reason(filename)
        safe = posixpath.basename(filename.replace("\\", "/")) if reason else filename
        attachments.append(Attachment(safe or f"attachment-{index}", part.get_payload(decode=True) or b""))
    subject = str(message["Subject"] or "")
    return ParsedDocument(subject, [Unit("section", None, blocks)], "email", attachments=attachments)


def parse_epub(data: bytes, name: str, options: ParseOptions) -> ParsedDocument:
    """EPUB: the spine's XHTML documents in reading order, one unit (chapter) each."""
    from defusedxml.ElementTree import fromstring

    try:
        book = zipfile.ZipFile(io.BytesIO(data))
        container = fromstring(book.read("META-INF/container.xml"), forbid_dtd=True)
        rootfile = next(el.get("full-path") for el in container.iter() if el.tag.endswith("rootfile"))
        opf = fromstring(book.read(rootfile), forbid_dtd=True)
    except Exception as exc:
        raise ParseError(f"EPUB is damaged (container or package document unreadable): {exc}") from exc
    base = posixpath.dirname(rootfile or "")
    manifest = {el.get("id"): el.get("href") for el in opf.iter() if el.tag.endswith("}item")}
    spine = [el.get("idref") for el in opf.iter() if el.tag.endswith("}itemref")]
    title = next((el.text or "" for el in opf.iter() if el.tag.endswith("}title")), "")
    units = []
    for number, idref in enumerate(spine, start=1):
        href = manifest.get(idref)
        if not href:
            continue
        try:
            xhtml = book.read(posixpath.normpath(posixpath.join(base, href)))
        except KeyError:
            continue
        _, blocks = html_to_blocks(decode_text(xhtml).text)
        if blocks:
            units.append(Unit("chapter", number, blocks))
    return ParsedDocument(title.strip(), units, "epub")
