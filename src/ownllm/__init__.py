"""ownllm: a company's raw files in, the company's own model out, served like a cloud API."""

__version__ = "0.1.0"
