"""Checks every Office Open XML package before a parser library touches it.

python-docx, python-pptx and openpyxl trust the zip and the XML inside. This guard
refuses packages that are zip bombs (too many members, too large, too compressed) or
whose XML declares a DTD or entities (XXE and billion-laughs), using defusedxml; and it
notes macros (`vbaProject.bin`), which are never run: only the document's text is read.
"""

from __future__ import annotations

import zipfile

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring

from ownllm.ingest.parsed import ParseError
from ownllm.ingest.parsers.zip_limits import open_capped_zip
from ownllm.store.tenant_settings import IngestLimits

_XML_SUFFIXES = (".xml", ".rels", ".vml")


def check_package(data: bytes, kind: str, limits: IngestLimits) -> tuple[zipfile.ZipFile, list[str]]:
    """Return the opened package and flags; raise ParseError for anything unsafe or broken."""
    package, members = open_capped_zip(data, kind.upper(), "parts", limits)
    flags: list[str] = []
    for member in members:
        if member.compress_size and member.file_size / member.compress_size > limits.max_archive_ratio:
            ratio = member.file_size // member.compress_size
            raise ParseError(f"{kind.upper()} part {member.filename} is compressed {ratio}:1, over the ratio cap "
                             "(zip bomb?)")
        lowered = member.filename.lower()
        if lowered.endswith("vbaproject.bin"):
            flags.append("macro-enabled: contains VBA macros (never run; only text is read)")
        if lowered.endswith(_XML_SUFFIXES):
            try:
                xml = package.read(member)
            except (zipfile.BadZipFile, OSError, EOFError, ValueError) as exc:
                raise ParseError(f"{kind.upper()} part {member.filename} is damaged: {exc}") from exc
            try:
                fromstring(xml, forbid_dtd=True, forbid_entities=True, forbid_external=True)
            except DefusedXmlException as exc:
                raise ParseError(
                    f"{kind.upper()} part {member.filename} declares a DTD or XML entities "
                    f"(possible XXE attack): refused ({type(exc).__name__})"
                ) from exc
            except Exception as exc:  # ParseError from expat: broken XML
                raise ParseError(f"{kind.upper()} part {member.filename} is not well-formed XML: {exc}") from exc
    return package, sorted(set(flags))
