"""`/v1/evals` on the real server: a background evaluation with the caller's own questions."""

from __future__ import annotations

import time

import httpx

QUESTIONS = [
    {"question": "How long is the frame warranty on Veltrano bikes?", "answer": "10 years",
     "source": "warranty_policy.pdf"},
    {"question": "收货后多少天内可以退货？", "answer": ["45天", "45"], "source": "保修政策.docx"},
]


def test_eval_job_scores_base_and_rag_and_serves_its_report(server):
    acme = httpx.Client(base_url=f"{server.base_url}/v1", headers={"Authorization": f"Bearer {server.acme_key}"},
                        timeout=60)
    created = acme.post("/evals", json={"models": ["smollm2-135m-instruct"], "dataset": None,
                                        "questions": QUESTIONS})
    assert created.status_code == 200, created.text
    eval_id = created.json()["id"]
    deadline = time.monotonic() + 240
    while (job := acme.get(f"/evals/{eval_id}").json())["status"] not in ("succeeded", "failed"):
        assert time.monotonic() < deadline, job
        time.sleep(0.5)
    assert job["status"] == "succeeded", job["error"]
    user = job["summary"]["user"]
    assert set(user) == {"base", "base+RAG"} and user["base"]["n"] == 2
    assert user["base+RAG"]["citation_accuracy"] == 1.0  # both questions cite their gold document
    assert user["base"]["citation_accuracy"] is None and user["base+RAG"]["not_found_rate"] == 0.0
    assert job["gate"] == []
    page = acme.get(job["report_url"].removeprefix("/v1"))
    assert page.status_code == 200 and "data:image/png;base64," in page.text and "收货后" in page.text

    globex = httpx.Client(base_url=f"{server.base_url}/v1",
                          headers={"Authorization": f"Bearer {server.globex_key}"}, timeout=30)
    assert globex.get(f"/evals/{eval_id}").status_code == 404
    assert globex.get(f"/evals/{eval_id}/report").status_code == 404
    missing = acme.post("/evals", json={"models": ["ft:nope"], "dataset": None, "questions": QUESTIONS})
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "model_not_found"
    empty = acme.post("/evals", json={"dataset": None})
    assert empty.status_code == 400
