"""Read one corpus version's documents and chunks into plain objects the generators can share."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select

from ownllm.corpus.versions import resolve_version, version_document_ids
from ownllm.store.catalog import Chunk, Document, File
from ownllm.store.home import Home


@dataclass(frozen=True)
class SourceChunk:
    id: str
    document_id: str
    text: str
    lang: str
    heading: str | None
    location: str  # "page 2", "slide 3", "00:01:10" — what a citation points at


@dataclass
class SourceDocument:
    id: str
    name: str
    title: str
    lang: str
    chunks: list[SourceChunk] = field(default_factory=list)
    text_sha256: str = ""  # orders documents that share a file name (two folders' README.md) the same in every home


@dataclass
class SourceCorpus:
    version_id: str
    version_number: int
    documents: list[SourceDocument]

    def chunks(self) -> list[SourceChunk]:
        return [chunk for document in self.documents for chunk in document.chunks]


def _location(chunk: Chunk) -> str:
    if chunk.unit_label:
        return chunk.unit_label
    if chunk.unit_number is not None:
        return f"{chunk.unit} {chunk.unit_number}"
    return chunk.unit


def load_corpus(home: Home, tenant_id: str, ref: str | int = "latest") -> SourceCorpus:
    """All documents of the version, ordered by file name, then text, so every generator sees the same order
    in every home: the ids are drawn afresh at each ingest and only break a tie between identical texts."""
    with home.catalog.session() as session:
        version = resolve_version(session, tenant_id, ref)
        ids = version_document_ids(session, version.id)
        rows = session.execute(
            select(Document, File.original_name).join(File, File.id == Document.file_id).where(Document.id.in_(ids))
        ).all()
        documents = {}
        for document, name in rows:
            documents[document.id] = SourceDocument(document.id, name, document.title, document.lang,
                                                    text_sha256=document.text_sha256 or "")
        chunks = session.scalars(
            select(Chunk).where(Chunk.document_id.in_(ids)).order_by(Chunk.document_id, Chunk.ordinal)
        )
        for chunk in chunks:
            owner = documents[chunk.document_id]
            owner.chunks.append(SourceChunk(chunk.id, chunk.document_id, chunk.text, owner.lang, chunk.heading,
                                            _location(chunk)))
        ordered = sorted(documents.values(), key=lambda d: (d.name, d.text_sha256, d.id))
        return SourceCorpus(version.id, version.number, ordered)
