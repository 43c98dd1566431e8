"""Persistent state: the catalog (SQL rows) and the content-addressed blob store."""
