from ownllm.cli import app

app()
