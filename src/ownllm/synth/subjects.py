"""What a question names as its subject: a section's heading, or the document when the heading is shared.

A fact is only learnable closed-book when its question says whom it is about: "the electronics are rated
IPX4" under a "Safety and weather" heading that ten datasheets share must be asked about the product.
"""

from __future__ import annotations

import re

from ownllm.synth.source import SourceDocument

# a heading that names a document's type after its subject: the question asks about the subject
_DOC_TYPE_EN = re.compile(r"\s*[-–—:]*\s*\b(?:technical\s+)?(?:data\s*sheet|spec(?:ification)?s?(?:\s+sheet)?|"
                          r"fact\s*sheet|product\s+sheet|user\s+manual|manual|brochure)$", re.IGNORECASE)
_DOC_TYPE_ZH = re.compile(r"(?:技术参数表|技术规格书|参数表|规格书|说明书|产品手册)$")


def without_document_type(subject: str) -> str:
    """"Cinder Cargo (VM-C120) technical datasheet" -> "Cinder Cargo (VM-C120)": people ask how heavy the
    bike is, not the datasheet. A heading that is only a document type stays as it is."""
    stripped = _DOC_TYPE_ZH.sub("", _DOC_TYPE_EN.sub("", subject)).strip(" -–—:：")
    # only where what is left names a thing (a model number, a code): "Employee Manual" is not about "Employee"
    return stripped if len(stripped) >= 2 and re.search(r"\d|[(（]", stripped) else subject


def readable_title(document: SourceDocument) -> str:
    """A title taken from a file name ("service_centre_hamburg") read as words, as a question would name it."""
    title = document.title.strip()
    return title.replace("_", " ") if "_" in title and " " not in title else title


def shared_headings(documents: list[SourceDocument]) -> frozenset[str]:
    """Section headings that several documents use ("Safety and weather", "团队"): they name a kind of section,
    not what it is about, so a question names the document instead (which product, which service centre)."""
    seen: dict[str, set[str]] = {}
    for document in documents:
        for chunk in document.chunks:
            if chunk.heading and chunk.heading.strip():
                seen.setdefault(chunk.heading.strip(), set()).add(document.id)
    return frozenset(heading for heading, owners in seen.items() if len(owners) > 1)
