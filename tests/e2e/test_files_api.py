"""Uploading knowledge over HTTP: the file is ingested by a background job whose progress is live,
the new content becomes searchable, and another tenant sees neither the file nor the job."""

from __future__ import annotations

import time

import httpx

from tests.e2e.conftest import Server


def _auth(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def test_upload_is_ingested_by_a_job_and_becomes_searchable(server: Server) -> None:
    content = b"# Night shift\n\nThe night shift at the Suzhou warehouse starts at 22:15 and ends at 06:15.\n"
    response = httpx.post(f"{server.base_url}/v1/files", headers=_auth(server.globex_key), timeout=30,
                          data={"purpose": "knowledge"}, files={"file": ("../night_shift.md", content)})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["object"] == "file" and body["filename"] == "night_shift.md" and body["bytes"] == len(content)
    job_url = f"{server.base_url}/v1/jobs/{body['job_id']}"
    deadline = time.monotonic() + 120
    while (job := httpx.get(job_url, headers=_auth(server.globex_key)).json())["status"] in ("queued", "running"):
        assert time.monotonic() < deadline, job
        time.sleep(0.3)
    assert job["status"] == "succeeded", job
    # the job ends with its index build: its last progress is chunks embedded out of all of them
    assert job["progress"]["done"] == job["progress"]["total"] == job["result"]["index"]["embedded"] > 0
    assert job["result"]["counts"]["parsed"] == 1
    file = httpx.get(f"{server.base_url}/v1/files/{body['id']}", headers=_auth(server.globex_key)).json()
    assert file["status"] == "processed" and file["detected_type"] == "markdown"
    hits = httpx.post(f"{server.base_url}/v1/search", headers=_auth(server.globex_key), timeout=30,
                      json={"query": "night shift starts"}).json()["data"]
    assert hits[0]["file_name"] == "night_shift.md" and "22:15" in hits[0]["text"]
    events = httpx.get(f"{job_url}/events", headers=_auth(server.globex_key)).json()["data"]
    assert [e["message"] for e in events][:1] == ["job started"]

    # another tenant can see neither the file nor the job
    for url in (f"{server.base_url}/v1/files/{body['id']}", job_url):
        denied = httpx.get(url, headers=_auth(server.acme_key))
        assert denied.status_code == 404 and denied.json()["error"]["message"]
    acme_files = httpx.get(f"{server.base_url}/v1/files", headers=_auth(server.acme_key)).json()["data"]
    assert "night_shift.md" not in {f["filename"] for f in acme_files}


def test_a_rejected_upload_reports_why(server: Server) -> None:
    response = httpx.post(f"{server.base_url}/v1/files", headers=_auth(server.globex_key), timeout=30,
                          data={"purpose": "knowledge"}, files={"file": ("broken.pdf", b"%PDF-1.4 garbage")})
    body = response.json()
    deadline = time.monotonic() + 60
    while httpx.get(f"{server.base_url}/v1/jobs/{body['job_id']}",
                    headers=_auth(server.globex_key)).json()["status"] in ("queued", "running"):
        assert time.monotonic() < deadline
        time.sleep(0.3)
    file = httpx.get(f"{server.base_url}/v1/files/{body['id']}", headers=_auth(server.globex_key)).json()
    assert file["status"] == "error" and file["status_details"].startswith("broken.pdf: PDF")


def test_only_knowledge_purpose_is_accepted(server: Server) -> None:
    response = httpx.post(f"{server.base_url}/v1/files", headers=_auth(server.globex_key), timeout=30,
                          data={"purpose": "assistants"}, files={"file": ("a.md", b"# A\n\ntext here\n")})
    assert response.status_code == 400 and response.json()["error"]["param"] == "purpose"
