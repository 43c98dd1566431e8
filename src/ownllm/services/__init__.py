"""The functions every transport calls (the API, the CLI, next the console and apps): accept an
upload and ingest + index it, delete a file, create a fine-tuning or evaluation job. Each
transport only parses its input, calls one of these, and renders the result; the answer path
itself is `ownllm.chat.answer`, which evaluation uses too."""
