"""Corpus versions: immutable sets of documents, with their chunks and provenance."""
