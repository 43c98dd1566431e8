"""Tuning: recipes, data packing, a resumable LoRA trainer, merging and GGUF export."""
