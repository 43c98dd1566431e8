"""`/v1/apps` over HTTP on a real server: listing, a tenant's own app end to end, multipart runs, hostile
specs refused, runs recorded, metered and invisible to other tenants (404). The server's default model is
SmolLM2 here (tests pin it), so these tests are about the plumbing; tests/apps/ runs the apps on Qwen."""

from __future__ import annotations

import hashlib
import json
import time
from importlib import resources

import httpx
import pytest

from tests.e2e.conftest import Server

FAQ_APP = {
    "name": "policy_answer",
    "title": {"en": "Policy answer", "zh": "政策问答"},
    "inputs": {"type": "object", "properties": {"question": {"type": "string", "maxLength": 300}},
               "required": ["question"], "additionalProperties": False},
    "retrieval": {"query": "{{ question }}", "top_k": 3},
    "prompt": "{% for s in sources %}[{{ s.id }}] {{ s.text | truncate(300) }}\n{% endfor %}"
              "Question: {{ question }}\nAnswer in one short sentence and give the id of the passage you used.",
    "output": {"type": "object", "properties": {"answer": {"type": "string", "maxLength": 200},
                                                "source": {"type": "string", "x-ids": "sources"}},
               "required": ["answer", "source"]},
    "checks": [{"check": "not_empty", "path": "answer"}],
    "render": "{{ output.answer }} [{{ output.source }}]",
    "max_tokens": 120,
}


def auth(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def test_apps_are_listed_and_a_tenants_own_app_runs_end_to_end(server: Server) -> None:
    with httpx.Client(base_url=server.base_url, timeout=300) as client:
        listed = client.get("/v1/apps", headers=auth(server.acme_key)).json()["data"]
        assert {"meeting_minutes", "chat_digest", "marketing_plan", "shopping_plan", "voice_request",
                "sketch_to_app"} <= {app["name"] for app in listed}

        created = client.post("/v1/apps", json=FAQ_APP, headers=auth(server.acme_key))
        assert created.status_code == 200, created.text
        again = client.post("/v1/apps", json={"yaml": json.dumps(FAQ_APP)}, headers=auth(server.acme_key)).json()
        assert again["version"] == created.json()["version"] + 1  # same name: a new version

        ran = client.post("/v1/apps/policy_answer/runs", headers=auth(server.acme_key),
                          json={"inputs": {"question": "Within how many days can a product be returned?"}})
        assert ran.status_code == 200, ran.text
        run = ran.json()
        assert run["app"] == "policy_answer" and run["app_version"] == again["version"]
        assert run["status"] in ("succeeded", "checks_failed") and run["checks"][0]["check"] == "schema"
        assert run["usage"]["completion_tokens"] > 0
        if run["output"]:
            assert run["output"]["source"] in run["citations"]  # the cited id resolves to a chunk of acme's corpus
            assert run["citations"][run["output"]["source"]]["chunk_id"]

        fetched = client.get(f"/v1/apps/runs/{run['id']}", headers=auth(server.acme_key)).json()
        assert fetched["id"] == run["id"] and fetched["output"] == run["output"]
        report = client.get(f"/v1/apps/runs/{run['id']}/report", headers=auth(server.acme_key))
        assert report.status_code == 200 and report.headers["content-type"].startswith("text/html")
        markdown = client.get(f"/v1/apps/runs/{run['id']}/report?format=markdown", headers=auth(server.acme_key))
        assert markdown.text == run["markdown"]

        # another tenant sees neither the app nor the run (404, not 403)
        other = auth(server.globex_key)
        assert "policy_answer" not in {a["name"] for a in client.get("/v1/apps", headers=other).json()["data"]}
        assert client.post("/v1/apps/policy_answer/runs", headers=other,
                           json={"inputs": {"question": "x"}}).status_code == 404
        assert client.get(f"/v1/apps/runs/{run['id']}", headers=other).status_code == 404
        assert client.get(f"/v1/apps/runs/{run['id']}/report", headers=other).status_code == 404
        assert run["id"] not in {r["id"] for r in client.get("/v1/apps/runs", headers=other).json()["data"]}

        # metered like chat
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            usage = client.get("/v1/usage?group_by=endpoint", headers=auth(server.acme_key)).json()["data"]
            row = next((u for u in usage if u["group"] == "/v1/apps/{app}/runs"), None)
            if row and row["completion_tokens"] > 0:
                break
            time.sleep(0.3)
        assert row and row["completion_tokens"] >= run["usage"]["completion_tokens"]


SHORT_DIGEST = {  # a tenant app on the chat-export preparation, kept short so SmolLM2 answers in seconds
    "name": "digest_headline",
    "title": "One line per chat",
    "inputs": {"type": "object", "properties": {"me": {"type": "string"}}},
    "files": {"export": {"kind": "chat_export", "required": True}},
    "prepare": "chat_digest",
    "prompt": "{% for c in conversations %}## {{ c.name }}\n{% for m in c.messages %}[{{ m.id }}] {{ m.text }}\n"
              "{% endfor %}{% endfor %}The most important message, in one short line:",
    "output": {"type": "object", "properties": {
        "headline": {"type": "string", "maxLength": 80},
        "messages": {"type": "array", "minItems": 1, "maxItems": 1, "items": {"type": "string", "x-ids": "messages"}}},
        "required": ["headline", "messages"]},
    "derive": ["message_ids"],
    "max_tokens": 80,
    "retries": 0,
}


def test_a_chat_export_runs_as_multipart_and_bad_input_names_the_field(server: Server) -> None:
    sample = resources.files("ownllm.apps").joinpath("samples", "chat_exports", "wechat_chat.txt").read_bytes()
    with httpx.Client(base_url=server.base_url, timeout=600) as client:
        assert client.post("/v1/apps", json=SHORT_DIGEST, headers=auth(server.acme_key)).status_code == 200
        ran = client.post("/v1/apps/digest_headline/runs", headers=auth(server.acme_key),
                          data={"inputs": json.dumps({"me": "周敏"})},
                          files={"export": ("wechat_chat.txt", sample, "text/plain")})
        assert ran.status_code == 200, ran.text
        assert ran.json()["input_hashes"]["export"] == hashlib.sha256(sample).hexdigest()
        assert ran.json()["lang"] == "zh"
        output = ran.json()["output"]
        assert output["message_ids"] and "#" in output["message_ids"][0]  # the export's own id, not M1

        missing = client.post("/v1/apps/marketing_plan/runs", headers=auth(server.acme_key),
                              json={"inputs": {"product": "Aurel 300", "audience": "commuters", "period": "Q2"}})
        assert missing.status_code == 400 and "budget" in missing.json()["error"]["message"]
        wrong_slot = client.post("/v1/apps/chat_digest/runs", headers=auth(server.acme_key),
                                 files={"virus": ("x.exe", b"MZ", "application/octet-stream")})
        assert wrong_slot.status_code == 400 and "virus" in wrong_slot.json()["error"]["message"]
        broken = client.post("/v1/apps/chat_digest/runs", headers=auth(server.acme_key),
                             files={"export": ("chat.json", b"{not json", "application/json")})
        assert broken.status_code == 400 and "chat.json" in broken.json()["error"]["message"]
        assert client.post("/v1/apps/nope/runs", headers=auth(server.acme_key), json={}).status_code == 404


def test_hostile_app_specs_are_refused_and_nothing_is_stored(server: Server) -> None:
    hostile = [
        {**FAQ_APP, "name": "evil1", "prompt": "{{ question.__class__.__mro__[1].__subclasses__() }}"},
        {**FAQ_APP, "name": "evil2", "render": "{% include '/etc/passwd' %}"},
        {**FAQ_APP, "name": "evil3", "derive": ["os_system"]},
        {**FAQ_APP, "name": "meeting_minutes"},  # a built-in's name
        {**FAQ_APP, "name": "evil4", "output": {"type": "object", "properties": {"x": {"$ref": "http://evil/x"}}}},
    ]
    with httpx.Client(base_url=server.base_url, timeout=60) as client:
        for spec in hostile:
            refused = client.post("/v1/apps", json=spec, headers=auth(server.acme_key))
            assert refused.status_code == 400, (spec["name"], refused.text)
            assert refused.json()["error"]["message"].startswith("app spec")
        names = {a["name"] for a in client.get("/v1/apps", headers=auth(server.acme_key)).json()["data"]}
        assert not names & {"evil1", "evil2", "evil3", "evil4"}
        detail = client.get("/v1/apps/meeting_minutes", headers=auth(server.acme_key)).json()
        assert detail["builtin"] and detail["prepare"] == "transcript"


@pytest.mark.engine_bound
def test_a_spoken_request_streamed_as_the_body_is_heard_and_timed(server: Server) -> None:
    from ownllm.apps.evalcases import spoken

    audio = spoken("给我讲一个小兔子找朋友的故事")

    def chunks():  # sent chunked, as a recorder would while the person speaks
        for start in range(0, len(audio), 4096):
            yield audio[start:start + 4096]

    with httpx.Client(base_url=server.base_url, timeout=300) as client:
        ran = client.post("/v1/apps/voice_request/runs", params={"inputs": json.dumps({"age": 5})},
                          content=chunks(), headers={**auth(server.acme_key), "Content-Type": "audio/mp4"})
    assert ran.status_code == 200, ran.text
    run = ran.json()
    assert run["variant"] == "story" and run["lang"] == "zh"
    assert any("小兔子" in note or "兔" in note for note in run["notes"])  # what was heard is kept with the run
    assert run["speech_to_first_token_ms"] is not None and run["speech_to_first_token_ms"] > 0
