"""Evaluation: does a model know the company? Base vs RAG vs tuned vs tuned+RAG, with a promotion gate."""
