"""Open a zip container and enforce the member-count and total-size caps from its headers.

Shared by the ZIP parser and the OOXML guard (DOCX/PPTX/XLSX are zips too); per-member
checks (ratio, names, actual bytes read) stay with each caller, which treat them differently.
"""

from __future__ import annotations

import io
import zipfile

from ownllm.ingest.parsed import ParseError
from ownllm.store.tenant_settings import IngestLimits


def open_capped_zip(data: bytes, label: str, member_word: str, limits: IngestLimits) -> tuple[zipfile.ZipFile,
                                                                                         list[zipfile.ZipInfo]]:
    try:
        package = zipfile.ZipFile(io.BytesIO(data))
        members = [m for m in package.infolist() if not m.is_dir()]
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise ParseError(f"{label} is damaged or truncated (not a readable zip): {exc}") from exc
    if len(members) > limits.max_archive_members:
        raise ParseError(f"{label} has {len(members)} {member_word}, over the cap of {limits.max_archive_members}")
    declared = sum(m.file_size for m in members)
    if declared > limits.max_archive_total_bytes:
        raise ParseError(f"{label} would unpack to {declared} bytes, over the {limits.max_archive_total_bytes} "
                         "byte cap (zip bomb?)")
    return package, members
