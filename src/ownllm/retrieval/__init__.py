"""Retrieval over a corpus version: lexical BM25 today, dense and hybrid next, and RAG on top."""
