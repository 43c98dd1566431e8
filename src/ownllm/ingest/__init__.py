"""Ingestion: raw files -> parsed, cleaned, chunked documents in a new corpus version."""
