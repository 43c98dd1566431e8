"""Run the cleaning steps on a parsed document, in order, and report what each one did.

normalize -> boilerplate (running headers/footers) -> quality filters -> PII redaction.
Redaction spans are recorded per block and turned into document offsets after layout.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from ownllm.ingest.cleaning.boilerplate import remove_running_lines
from ownllm.ingest.cleaning.normalize import normalize_text
from ownllm.ingest.cleaning.pii import RedactedSpan, redact
from ownllm.ingest.cleaning.quality import rejection_reason
from ownllm.ingest.parsed import Block, ParsedDocument
from ownllm.store.tenant_settings import CleaningConfig


@dataclass
class CleaningResult:
    report: dict[str, Any] = field(default_factory=dict)
    redactions: list[tuple[Block, RedactedSpan]] = field(default_factory=list)


def clean_document(document: ParsedDocument, config: CleaningConfig, secret: bytes) -> CleaningResult:
    result = CleaningResult()
    changed = 0
    for unit in document.units:
        for block in unit.blocks:
            cleaned = normalize_text(block.text, unicode_fold=config.normalize,
                                     keep_layout=block.kind in ("table", "code"))
            changed += cleaned != block.text
            block.text = cleaned
        unit.blocks = [b for b in unit.blocks if b.text]
    result.report["normalize"] = {"blocks_changed": changed}
    if config.boilerplate:
        result.report["boilerplate"] = {"lines_removed": remove_running_lines(document.units)}
    if config.quality:
        reasons: Counter[str] = Counter()
        for unit in document.units:
            kept = []
            for block in unit.blocks:
                reason = rejection_reason(block)
                if reason is None:
                    kept.append(block)
                else:
                    reasons[reason] += 1
            unit.blocks = kept
        result.report["quality"] = {"blocks_removed": dict(reasons)}
    kinds: Counter[str] = Counter()
    for unit in document.units:
        for block in unit.blocks:
            block.text, spans = redact(block.text, config.pii, secret)
            for span in spans:
                kinds[span.kind] += 1
                result.redactions.append((block, span))
    result.report["pii"] = dict(kinds)
    return result
