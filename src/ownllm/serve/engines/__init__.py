"""Inference engines behind one interface: llama.cpp by default (CPU), others for GPUs later."""
