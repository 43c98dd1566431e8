"""Issue 18 regressions that need no model weights (fake engine, thread-mode jobs, real HTTP):
uploads checked before they are stored, size caps on every text input, throttled authentication,
recipes by name only, outbound URLs only to the allow-list, bounded jobs, clean upload names."""

from __future__ import annotations

import os
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import ClassVar

import httpx
from sqlalchemy import func, select

from ownllm.models.hub import DEFAULT_MODEL_ID
from ownllm.store.catalog import File
from tests.serve.conftest import Live, wait_job


def _blob_files(live: Live) -> int:
    return sum(len(files) for _, _, files in os.walk(live.home.settings.blob_root))


def _files(live: Live) -> int:
    with live.home.catalog.session() as session:
        return session.scalar(select(func.count(File.id))) or 0


def test_an_upload_over_the_cap_is_refused_before_anything_is_stored(live: Live) -> None:
    before_blobs, before_rows = _blob_files(live), _files(live)
    big = b"x" * (200 * 1024)  # the test server's cap is 64 KiB
    declared = httpx.post(f"{live.url}/v1/files", headers=live.auth(), data={"purpose": "knowledge"},
                          files={"file": ("big.txt", big)}, timeout=30)
    assert declared.status_code == 413 and "limit" in declared.json()["error"]["message"]

    def chunks():  # no Content-Length: the cap must hold while the body streams in
        yield b"--b\r\nContent-Disposition: form-data; name=\"purpose\"\r\n\r\nknowledge\r\n"
        yield b"--b\r\nContent-Disposition: form-data; name=\"file\"; filename=\"big.txt\"\r\n\r\n"
        for _ in range(50):
            yield b"y" * 8192
        yield b"\r\n--b--\r\n"

    streamed = httpx.post(f"{live.url}/v1/files", headers={**live.auth(), "content-type": "multipart/form-data; "
                                                           "boundary=b"}, content=chunks(), timeout=30)
    assert streamed.status_code == 413
    json_body = httpx.post(f"{live.url}/v1/search", headers=live.auth(), json={"query": "q" * 300_000}, timeout=30)
    assert json_body.status_code == 413
    assert _blob_files(live) == before_blobs and _files(live) == before_rows


def test_every_text_input_has_a_cap(live: Live) -> None:
    with httpx.Client(base_url=live.url, headers=live.auth(), timeout=30) as client:
        search = client.post("/v1/search", json={"query": "warranty " * 100})  # 900 chars > 500
        assert search.status_code == 400 and search.json()["error"]["code"] == "string_above_max_length"
        embed = client.post("/v1/embeddings", json={"model": "multilingual-e5-small", "input": "w" * 9000})
        assert embed.status_code == 400 and embed.json()["error"]["param"] == "input"
        chat = client.post("/v1/chat/completions", json={"model": DEFAULT_MODEL_ID, "messages": [
            {"role": "user", "content": "x" * 30_000}]})
        assert chat.status_code == 400 and chat.json()["error"]["code"] == "string_above_max_length"
        knowledge = client.post("/v1/chat/completions", json={"model": DEFAULT_MODEL_ID, "knowledge": {},
                                                               "messages": [{"role": "user", "content": "q " * 400}]})
        assert knowledge.status_code == 400 and "search the knowledge base" in knowledge.json()["error"]["message"]


def test_failed_authentication_is_throttled_before_argon2(live: Live) -> None:
    key_id = live.acme.split("-")[1]
    with httpx.Client(base_url=live.url, timeout=30) as client:
        assert client.get("/v1/models", headers=live.auth()).status_code == 200  # verified once: cached
        statuses = [client.get("/v1/models", headers={"Authorization": f"Bearer ol-{key_id}-wrong{i}"}).status_code
                    for i in range(12)]
        assert statuses[:10] == [401] * 10 and statuses[10:] == [429, 429]
        throttled = client.get("/v1/models", headers={"Authorization": f"Bearer ol-{key_id}-wrong"})
        assert throttled.status_code == 429 and int(throttled.headers["retry-after"]) >= 1
        assert client.get("/v1/models", headers=live.auth()).status_code == 200  # the real key still works


def test_a_recipe_is_a_name_never_a_server_path(live: Live, tmp_path) -> None:
    secret = tmp_path / "secret.yaml"
    secret.write_text("name: x\nstages: [{method: sft}]\nmarker: TOP-SECRET-LINE\n")
    answers = []
    for recipe in (str(secret), str(tmp_path / "missing.yaml"), "/etc/hostname.yaml", str(live.home.root / "x.db")):
        response = httpx.post(f"{live.url}/v1/fine_tuning/jobs", headers=live.auth(), timeout=30, json={
            "model": DEFAULT_MODEL_ID, "corpus_version": "latest", "recipe": recipe})
        assert response.status_code == 400 and response.json()["error"]["param"] == "recipe"
        assert "TOP-SECRET" not in response.text
        answers.append(response.json()["error"]["message"].replace(recipe, "<recipe>"))
    assert answers[0] == answers[1]  # an existing file and a missing one get the same answer


class _Listener(BaseHTTPRequestHandler):
    hits: ClassVar[list[str]] = []

    def do_POST(self) -> None:
        _Listener.hits.append(self.headers.get("Authorization") or "")
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b'{"secret": "internal admin data"}')

    def log_message(self, *args: object) -> None:
        pass


def test_teacher_urls_must_be_allowed_by_the_operator(live: Live) -> None:
    listener = HTTPServer(("127.0.0.1", 0), _Listener)
    threading.Thread(target=listener.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{listener.server_port}/v1"
    try:
        body = {"model": DEFAULT_MODEL_ID, "corpus_version": "latest",
                "synth": {"teacher": True, "teacher_url": url, "teacher_model": "x"}}
        refused = httpx.post(f"{live.url}/v1/fine_tuning/jobs", headers=live.auth(), json=body, timeout=30)
        assert refused.status_code == 403 and refused.json()["error"]["code"] == "outbound_not_allowed"
        live.home.settings.outbound_allow = [url]  # allowed by prefix, but loopback still needs its own switch
        private = httpx.post(f"{live.url}/v1/fine_tuning/jobs", headers=live.auth(), json=body, timeout=30)
        assert private.status_code == 403 and "OWNLLM_OUTBOUND_ALLOW_PRIVATE" in private.json()["error"]["message"]
        assert "internal admin data" not in refused.text + private.text
    finally:
        live.home.settings.outbound_allow = []
        listener.shutdown()
    assert _Listener.hits == []  # nothing ever reached the listener


def test_api_jobs_are_bounded(live: Live) -> None:
    over = httpx.post(f"{live.url}/v1/fine_tuning/jobs", headers=live.auth(), timeout=30, json={
        "model": DEFAULT_MODEL_ID, "corpus_version": "latest", "hyperparameters": {"max_steps": 10**9}})
    assert over.status_code == 400 and "max_steps" in over.json()["error"]["message"]
    sneaky = httpx.post(f"{live.url}/v1/fine_tuning/jobs", headers=live.auth(), timeout=30, json={
        "model": DEFAULT_MODEL_ID, "corpus_version": "latest", "recipe_overrides": {"stages.*.max_steps": 10**9}})
    assert sneaky.status_code == 400


def test_odd_upload_names_are_cleaned_and_their_jobs_finish(live: Live) -> None:
    for name in ("..", "../../etc/passwd", "\x00evil\n.md", "   "):
        response = httpx.post(f"{live.url}/v1/files", headers=live.auth(), data={"purpose": "knowledge"},
                              files={"file": (name, b"# Notes\n\nThe loading dock closes at 18:00.\n")}, timeout=30)
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["filename"] not in ("..", ".", "") and not {"/", "\x00"} & set(body["filename"])
        assert wait_job(live, body["job_id"])["status"] == "succeeded"
    assert not (live.home.root.parent / "etc").exists()


def test_deleting_a_file_removes_it_from_later_versions_and_lists_what_came_from_it(live: Live) -> None:
    uploaded = []
    for name, text in (("keep.md", "# Keep\n\nThe canteen opens at 11:45.\n"),
                       ("drop.md", "# Drop\n\nThe staff code word is Marigold.\n")):
        response = httpx.post(f"{live.url}/v1/files", headers=live.auth(), data={"purpose": "knowledge"},
                              files={"file": (name, text.encode())}, timeout=30).json()
        assert wait_job(live, response["job_id"])["status"] == "succeeded"
        uploaded.append(response)
    drop = uploaded[1]["id"]
    assert httpx.delete(f"{live.url}/v1/files/{drop}", headers=live.auth(live.globex), timeout=30).status_code == 404
    deleted = httpx.delete(f"{live.url}/v1/files/{drop}", headers=live.auth(), timeout=30)
    assert deleted.status_code == 200, deleted.text
    body = deleted.json()
    assert body["deleted"] is True and body["derived"]["documents"] and body["derived"]["bytes_removed"]
    assert body["derived"]["new_corpus_version"] == max(body["derived"]["corpus_versions"]) + 1
    hits = httpx.post(f"{live.url}/v1/search", headers=live.auth(), json={"query": "Marigold code word",
                                                                           "mode": "lexical"}, timeout=30).json()
    assert all(hit["file_name"] != "drop.md" for hit in hits["data"])
    assert httpx.delete(f"{live.url}/v1/files/{drop}", headers=live.auth(), timeout=30).status_code == 404
