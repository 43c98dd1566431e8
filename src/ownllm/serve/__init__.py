"""Serving: the OpenAI-compatible API, its auth, and the inference engines behind it."""
