"""Synthetic instruction data from a corpus version: the data that teaches a base model the company."""
