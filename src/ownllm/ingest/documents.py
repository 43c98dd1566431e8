"""A parser's result becomes a document: archive members are admitted in turn, the text is cleaned,
chunked and checked against the corpus for duplicates, then written with its chunks and
redaction records in one transaction."""

from __future__ import annotations

import hashlib
from pathlib import Path

from ownllm.ingest.admission import admit
from ownllm.ingest.chunk import block_offsets, chunk_document
from ownllm.ingest.cleaning.dedupe import signature, to_bytes
from ownllm.ingest.cleaning.run import clean_document
from ownllm.ingest.parsed import ParsedDocument
from ownllm.ingest.report import FileOutcome
from ownllm.ingest.run_state import IngestRun
from ownllm.ingest.sandbox import TaskResult
from ownllm.ingest.sources import SourceFile
from ownllm.store.catalog import Chunk, Document, File, Redaction
from ownllm.store.statuses import FileStatus
from ownllm.text import detect_lang


def finish_parse(run: IngestRun, result: TaskResult) -> None:
    item, kind, note = run.pending.pop(result.task_id)
    if not result.ok:
        run.reject(result.task_id, item, kind, result.status, result.error)
        return
    parsed: ParsedDocument = result.value
    flags = parsed.flags + ([note] if note else [])
    for member, reason in parsed.rejected_members:
        flags.append(f"member {member} refused: {reason}")
        run.tracker.event(f"{item.name}: member {member} refused: {reason}", level="warning")
    if parsed.attachments:
        _admit_members(run, result.task_id, item, parsed)
    if not parsed.has_text:
        if parsed.attachments or parsed.rejected_members:
            run.set_file_status(result.task_id, FileStatus.EXPANDED, None, flags)
            run.outcome(FileOutcome(item.name, FileStatus.EXPANDED, kind, f"{len(parsed.attachments)} member(s)",
                                    flags=flags))
        else:
            run.reject(result.task_id, item, kind, FileStatus.FAILED, "no text found in the file", flags)
        return
    record_document(run, result.task_id, item, kind, parsed, flags)


def _admit_members(run: IngestRun, file_id: str, item: SourceFile, parsed: ParsedDocument) -> None:
    if item.depth + 1 > run.limits.max_archive_depth:
        run.tracker.event(f"{item.name}: archives nested deeper than {run.limits.max_archive_depth}; "
                          "members not ingested", level="warning")
        return
    for attachment in parsed.attachments:
        member = SourceFile(None, f"{item.name}/{attachment.name}", item.source, item.sync, file_id, item.depth + 1)
        run.total += 1
        admit(run, member, run.home.blobs.put_bytes(attachment.data), len(attachment.data))


def _duplicate_reason(run: IngestRun, item: SourceFile, text_sha: str, minhash) -> tuple[str, str] | None:  # type: ignore[no-untyped-def]
    """(document it duplicates, why) when this text is already in the corpus at another path."""
    known = run.known
    same_path = known.path_docs.get((item.source, item.name), set())
    twin = known.text_hashes.get(text_sha)
    if twin is not None and twin not in same_path:
        return twin, f"same text as {known.doc_paths.get(twin, ('', twin))[1]}"
    near = known.near.best_match(minhash, exclude=same_path) if run.config.near_dedupe else None
    if near is not None:
        other, similarity = near
        return other, f"near-duplicate of {known.doc_paths.get(other, ('', other))[1]} (similarity {similarity:.2f})"
    return None


def record_document(run: IngestRun, file_id: str, item: SourceFile, kind: str, parsed: ParsedDocument,
                    flags: list[str]) -> None:
    cleaned = clean_document(parsed, run.config, run.secret)
    if not parsed.has_text or sum(len(b.text) for u in parsed.units for b in u.blocks) < run.config.min_document_chars:
        run.reject(file_id, item, kind, FileStatus.FAILED,
                   f"too little text after cleaning (under {run.config.min_document_chars} characters)", flags)
        return
    settings = run.home.settings
    full_text, spans = chunk_document(parsed, settings.chunk_tokens, settings.chunk_overlap_tokens, run.count_tokens)
    text_sha = hashlib.sha256(full_text.encode("utf-8")).hexdigest()
    minhash = signature(full_text)
    duplicate = _duplicate_reason(run, item, text_sha, minhash)
    if duplicate is not None:
        other, why = duplicate
        run.set_file_status(file_id, FileStatus.DUPLICATE, f"{item.name}: {why}", flags)
        run.change.documents.add(other)
        run.outcome(FileOutcome(item.name, FileStatus.DUPLICATE, kind, why, flags=flags))
        return
    offsets = block_offsets(parsed)
    run.home.blobs.put_bytes(full_text.encode("utf-8"))
    with run.home.catalog.session() as session:
        file = session.get(File, file_id)
        assert file is not None
        report = dict(cleaned.report)
        if parsed.meta:
            report["parse"] = parsed.meta
        document = Document(
            tenant_id=run.tenant_id, file_id=file_id, title=parsed.title.strip() or Path(item.name).stem,
            lang=detect_lang(full_text), text_sha256=text_sha, n_chars=len(full_text), n_units=len(parsed.units),
            parser=parsed.parser, cleaning=report, minhash=to_bytes(minhash),
        )
        session.add(document)
        session.flush()
        session.add_all(Chunk(
            document_id=document.id, ordinal=i, text=s.text, n_tokens=s.n_tokens, unit=s.unit,
            unit_number=s.unit_number, unit_label=s.unit_label, heading=s.heading, char_start=s.char_start,
            char_end=s.char_end) for i, s in enumerate(spans))
        session.add_all(Redaction(
            document_id=document.id, kind=span.kind, char_start=offsets[id(block)] + span.start,
            char_end=offsets[id(block)] + span.end, value_hmac=span.value_hmac)
            for block, span in cleaned.redactions if id(block) in offsets)
        file.status, file.error, file.deleted_at = FileStatus.PARSED, None, None
        file.flags = sorted(set(flags))
        doc_id = document.id
    run.known.remember(doc_id, text_sha, to_bytes(minhash), (item.source, item.name))
    run.change.documents.add(doc_id)
    run.outcome(FileOutcome(item.name, FileStatus.PARSED, kind, None, len(spans), flags))
