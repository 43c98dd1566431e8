"""Operating a real `ownllm serve` process: JSON logs carrying the request id, readiness, and a graceful
shutdown that lets an in-flight stream finish."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import threading

import httpx

from ownllm.models.hub import DEFAULT_MODEL_ID
from ownllm.store.keys import create_key
from ownllm.store.tenants import create_tenant
from tests.conftest import make_home, server_env
from tests.e2e.conftest import _free_port, wait_until_up


def test_json_logs_readiness_and_a_graceful_shutdown(tmp_path) -> None:
    home = make_home(tmp_path / "home")
    _, key = create_key(home, create_tenant(home, "ops").id)
    env = {**server_env(home), "OWNLLM_LOG_FORMAT": "json"}
    home.close()
    port = _free_port()
    log_path = tmp_path / "server.log"
    with open(log_path, "w") as log:
        process = subprocess.Popen([sys.executable, "-m", "ownllm", "serve", "--port", str(port)], env=env,
                                   stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    wait_until_up(base, process, log_path.read_text, path="/readyz")
    chunks: list[str] = []
    started = threading.Event()

    def stream() -> None:
        body = {"model": DEFAULT_MODEL_ID, "stream": True, "max_tokens": 120, "temperature": 0,
                "messages": [{"role": "user", "content": "Write a long story about a lighthouse keeper."}]}
        with httpx.stream("POST", f"{base}/v1/chat/completions", json=body, timeout=120,
                          headers={"Authorization": f"Bearer {key}", "x-request-id": "req-graceful-1"}) as response:
            for line in response.iter_lines():
                if line.startswith("data: "):
                    chunks.append(line[6:])
                    started.set()

    reader = threading.Thread(target=stream)
    reader.start()
    assert started.wait(60), log_path.read_text()
    process.send_signal(signal.SIGTERM)  # while the stream is still being generated
    reader.join(120)
    assert process.wait(60) in (0, -signal.SIGTERM)  # uvicorn re-raises SIGTERM after its graceful shutdown
    assert chunks[-1] == "[DONE]" and len(chunks) > 10  # the in-flight stream finished
    records = [json.loads(line) for line in log_path.read_text().splitlines() if line.startswith("{")]
    access = [r for r in records if r.get("logger") == "ownllm.access" and r.get("request_id") == "req-graceful-1"]
    assert access and access[0]["status"] == 200 and access[0]["tenant"] == "ops"
