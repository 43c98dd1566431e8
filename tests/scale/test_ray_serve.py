"""`ownllm serve --ray`: the API as Ray Serve replicas answers exactly what the single-process server answers,
keeps auth and metering, and scales 1 → 2 replicas under load and back to 1 when it ends."""

from __future__ import annotations

import subprocess
import sys
import threading
import time

import httpx

from ownllm.models.hub import DEFAULT_MODEL_ID
from ownllm.serve import scale
from ownllm.serve.scale import model_of
from tests.conftest import server_env
from tests.e2e.conftest import _free_port, wait_until_up

QUESTION = {"model": DEFAULT_MODEL_ID, "temperature": 0, "max_tokens": 40, "knowledge": {"top_k": 3},
            "messages": [{"role": "user", "content": "How long is the frame warranty on Veltrano bikes?"}]}


def _answers(base: str, key: str) -> dict[str, object]:
    """What a client sees, without ids and times: a cited answer (streamed too), models, a search."""
    auth = {"Authorization": f"Bearer {key}"}
    with httpx.Client(base_url=base, headers=auth, timeout=120) as client:
        reply = client.post("/v1/chat/completions", json=QUESTION)
        reply.raise_for_status()
        body = reply.json()
        with client.stream("POST", "/v1/chat/completions", json={**QUESTION, "stream": True}) as streamed:
            events = [line for line in streamed.iter_lines() if line.startswith("data: ")]
        search = client.post("/v1/search", json={"query": "frame warranty", "top_k": 3})
        return {"answer": body["choices"][0]["message"]["content"],
                "citations": [(c["document"], c["chunk_id"]) for c in body["citations"]],
                "usage": body["usage"], "stream_events": len(events) > 2 and events[-1] == "data: [DONE]",
                "models": sorted(m["id"] for m in client.get("/v1/models").json()["data"]),
                "search": [hit["chunk_id"] for hit in search.json()["data"]],
                "anonymous": client.get("/v1/models", headers={"Authorization": ""}).status_code}


def test_the_router_reads_the_model_a_request_names():
    assert model_of("/v1/chat/completions", b'{"model": "ft:x"}', "application/json") == "ft:x"
    assert model_of("/v1/files", b'{"model": "ft:x"}', "application/json") == ""
    assert model_of("/v1/chat/completions", b"not json", "application/json") == ""
    assert model_of("/v1/chat/completions", b'["model"]', "application/json") == ""


def test_ray_serve_answers_like_one_server_and_scales_out_and_back(ray_cluster, acme, tmp_path):
    port = _free_port()
    log = open(tmp_path / "server.log", "w+")  # noqa: SIM115
    single = subprocess.Popen([sys.executable, "-m", "ownllm", "serve", "--port", str(port)], env=server_env(acme.home),
                              stdout=log, stderr=subprocess.STDOUT)
    try:
        wait_until_up(f"http://127.0.0.1:{port}", single, lambda: (log.seek(0), log.read())[1])
        expected = _answers(f"http://127.0.0.1:{port}", acme.api_key)
    finally:
        single.terminate()
        single.wait(timeout=30)
        log.close()

    settings = acme.home.settings.model_copy(update={
        "serve_min_replicas": 1, "serve_max_replicas": 2, "serve_target_ongoing_requests": 1.0,
        "serve_upscale_delay_s": 1.0, "serve_downscale_delay_s": 4.0, "serve_look_back_s": 2.0,
        "serve_max_ongoing_requests": 2})  # five senders overflow one replica: the model goes to the second too
    ray_port = _free_port()
    base = f"http://127.0.0.1:{ray_port}"
    scale.start(settings, port=ray_port)
    try:
        wait_until_up(base, timeout_s=120)
        assert scale.replica_count() == 1
        assert _answers(base, acme.api_key) == expected
        assert expected["anonymous"] == 401 and expected["stream_events"]

        replicas_seen: set[str] = set()
        stop = threading.Event()

        def load() -> None:
            with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {acme.api_key}"},
                              timeout=120) as client:
                while not stop.is_set():
                    reply = client.post("/v1/chat/completions", json={**QUESTION, "max_tokens": 24})
                    assert reply.status_code == 200, reply.text
                    replicas_seen.add(reply.headers["x-ownllm-replica"])

        senders = [threading.Thread(target=load) for _ in range(5)]
        for sender in senders:
            sender.start()
        deadline = time.monotonic() + 120
        while scale.replica_count() < 2 and time.monotonic() < deadline:
            time.sleep(0.5)
        scaled_out = scale.replica_count()
        deadline = time.monotonic() + 60  # let the second replica take requests
        while len(replicas_seen) < 2 and time.monotonic() < deadline:
            time.sleep(0.5)
        stop.set()
        for sender in senders:
            sender.join(timeout=120)
        assert scaled_out == 2 and len(replicas_seen) == 2
        deadline = time.monotonic() + 90
        while scale.replica_count() > 1 and time.monotonic() < deadline:
            time.sleep(0.5)
        assert scale.replica_count() == 1
    finally:
        scale.stop()
