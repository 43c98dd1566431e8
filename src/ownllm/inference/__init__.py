"""Inference below every service: the engine Protocol, the llama.cpp engine, and the pool that loads
engines lazily and evicts the least recently used within a memory budget (see pool.py for why each
engine has its own worker thread instead of a lock)."""
