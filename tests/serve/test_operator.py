"""The operator's view (fake engine, real HTTP): the admin API for tenants and keys (scopes, expiry,
rotation, deletion), metering into /v1/usage and `ownllm usage`, rate limits and quotas with
OpenAI's headers, metrics and readiness."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import httpx

from ownllm.models.hub import DEFAULT_MODEL_ID
from ownllm.store.tenants import update_tenant_settings
from tests.serve.conftest import Live

CHAT = "/v1/chat/completions"


def _chat(live: Live, key: str, text: str = "one two three") -> httpx.Response:
    return httpx.post(f"{live.url}{CHAT}", headers=live.auth(key), timeout=30,
                      json={"model": DEFAULT_MODEL_ID, "messages": [{"role": "user", "content": text}]})


def test_admin_manages_tenants_and_keys_with_scopes_expiry_and_rotation(live: Live) -> None:
    admin = httpx.Client(base_url=f"{live.url}/v1/admin", headers=live.admin(), timeout=30)
    assert httpx.get(f"{live.url}/v1/admin/tenants", headers=live.auth(), timeout=30).status_code == 403
    created = admin.post("/tenants", json={"name": "initech"}).json()
    tenant_id, first_key = created["id"], created["key"]["key"]
    assert _chat(live, first_key).status_code == 200
    assert "initech" in {t["name"] for t in admin.get("/tenants").json()["data"]}
    reader = admin.post(f"/tenants/{tenant_id}/keys", json={"name": "reader", "scopes": ["inference"]}).json()
    assert _chat(live, reader["key"]).status_code == 200
    upload = httpx.post(f"{live.url}/v1/files", headers=live.auth(reader["key"]), data={"purpose": "knowledge"},
                        files={"file": ("a.md", b"# A\n\ntext\n")}, timeout=30)
    assert upload.status_code == 403 and upload.json()["error"]["code"] == "missing_scope"
    short = admin.post(f"/tenants/{tenant_id}/keys", json={"expires_in_days": 0.00001}).json()
    import time

    time.sleep(1.2)
    expired = _chat(live, short["key"])
    assert expired.status_code == 401 and expired.json()["error"]["code"] == "expired_api_key"
    rotated = admin.post(f"/keys/{reader['id']}/rotate").json()
    assert rotated["replaces"] == reader["id"] and rotated["scopes"] == ["inference"]
    assert _chat(live, reader["key"]).status_code == 401 and _chat(live, rotated["key"]).status_code == 200
    keys = admin.get(f"/tenants/{tenant_id}/keys").json()["data"]
    assert all("key" not in k and "secret" not in json.dumps(k) for k in keys)  # secrets are shown once
    assert admin.post(f"/keys/{first_key.split('-')[1]}/revoke").json()["revoked_at"] is not None
    assert _chat(live, first_key).status_code == 401
    assert admin.delete(f"/tenants/{tenant_id}").json()["deleted"] is True
    assert _chat(live, rotated["key"]).status_code == 401  # a deleted tenant's keys stop at once
    assert admin.get(f"/tenants/{tenant_id}").status_code == 404


def test_requests_are_metered_into_usage_for_their_tenant_only(live: Live, tmp_path) -> None:
    replies = [_chat(live, live.acme, "a b c").json(), _chat(live, live.acme, "d e").json()]
    httpx.post(f"{live.url}/v1/embeddings", headers=live.auth(), timeout=30,
               json={"model": "multilingual-e5-small", "input": "hello world"})
    live.flush_usage()
    by_model = httpx.get(f"{live.url}/v1/usage", params={"group_by": "model"}, headers=live.auth(),
                         timeout=30).json()["data"]
    chat = next(row for row in by_model if row["group"] == DEFAULT_MODEL_ID)
    assert chat["requests"] == 2
    assert chat["prompt_tokens"] == sum(r["usage"]["prompt_tokens"] for r in replies)
    assert chat["completion_tokens"] == sum(r["usage"]["completion_tokens"] for r in replies)
    assert chat["mean_ttft_ms"] is not None and chat["mean_latency_ms"] >= chat["mean_ttft_ms"]
    assert any(row["group"] == "multilingual-e5-small" and row["prompt_tokens"] > 0 for row in by_model)
    by_key = httpx.get(f"{live.url}/v1/usage", params={"group_by": "key"}, headers=live.auth(), timeout=30).json()
    assert [row["group"] for row in by_key["data"]] == [live.acme.split("-")[1]]
    assert httpx.get(f"{live.url}/v1/usage", headers=live.auth(live.globex), timeout=30).json()["data"] == []
    everyone = httpx.get(f"{live.url}/v1/admin/usage", headers=live.admin(), timeout=30).json()["data"]
    assert live.acme_id in {row["group"] for row in everyone}
    live.home.settings.prices = {DEFAULT_MODEL_ID: {"prompt": 1.0, "completion": 2.0}}
    cost = httpx.get(f"{live.url}/v1/usage", params={"cost": "true"}, headers=live.auth(), timeout=30).json()["cost"]
    expected = chat["prompt_tokens"] / 1000 + 2 * chat["completion_tokens"] / 1000
    assert abs(next(m["cost"] for m in cost["serving"] if m["model"] == DEFAULT_MODEL_ID) - expected) < 1e-6
    env = {**os.environ, "OWNLLM_HOME": str(live.home.root), "COLUMNS": "200",
           "OWNLLM_PRICES": json.dumps(live.home.settings.prices)}
    cli = subprocess.run([sys.executable, "-m", "ownllm", "usage", "acme", "--group-by", "model", "--cost",
                          "--chart", str(tmp_path / "usage.png"), "--json"], env=env, capture_output=True, text=True,
                         timeout=120)
    assert cli.returncode == 0, cli.stderr
    report = json.loads(cli.stdout)
    assert {row["group"] for row in report["usage"]} >= {DEFAULT_MODEL_ID} and report["cost"]["total"] > 0
    assert (tmp_path / "usage.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_rate_limits_and_quota_answer_429_with_openai_headers(live: Live) -> None:
    update_tenant_settings(live.home, live.acme_id, {"rate_limits": {"requests_per_minute": 3}})
    update_tenant_settings(live.home, live.globex_id, {"rate_limits": {"tokens_per_minute": 40}})
    responses = [_chat(live, live.acme) for _ in range(4)]
    assert [r.status_code for r in responses] == [200, 200, 200, 429]
    assert responses[0].headers["x-ratelimit-limit-requests"] == "3"
    assert responses[2].headers["x-ratelimit-remaining-requests"] == "0"
    assert responses[0].headers["x-ratelimit-reset-requests"].endswith("s")
    assert int(responses[3].headers["retry-after"]) >= 1
    assert responses[3].json()["error"]["type"] == "rate_limit_error"
    first = _chat(live, live.globex, "w " * 30)  # another tenant, its own budget: ~70 tokens, admitted, then charged
    assert first.status_code == 200 and first.headers["x-ratelimit-limit-tokens"] == "40"
    live.flush_usage()
    assert _chat(live, live.globex).status_code == 429
    quota_tenant = httpx.post(f"{live.url}/v1/admin/tenants", headers=live.admin(), timeout=30, json={
        "name": "thrifty", "settings": {"rate_limits": {"monthly_tokens": 50}}}).json()
    key = quota_tenant["key"]["key"]
    assert _chat(live, key, "x " * 40).status_code == 200
    over = _chat(live, key)
    assert over.status_code == 429 and over.json()["error"]["code"] == "insufficient_quota"


def test_a_full_engine_queue_is_a_503_with_retry_after(tmp_path) -> None:
    from tests.serve.conftest import start_live

    busy, server, thread = start_live(tmp_path / "busy", delay_s=0.2, engine_queue=1)
    try:
        import threading

        body = {"model": DEFAULT_MODEL_ID, "messages": [{"role": "user", "content": "a b c d e f g h"}]}
        results: list[int] = []

        def call() -> None:
            results.append(httpx.post(f"{busy.url}{CHAT}", json=body, headers=busy.auth(), timeout=60).status_code)

        threads = [threading.Thread(target=call) for _ in range(4)]
        for worker in threads:
            worker.start()
        for worker in threads:
            worker.join()
        assert 503 in results and 200 in results
        refused = httpx.post(f"{busy.url}{CHAT}", json=body, headers=busy.auth(), timeout=60)
        assert refused.status_code in (200, 503)
    finally:
        server.should_exit = True
        thread.join(10)


def test_metrics_readiness_and_cors(live: Live) -> None:
    _chat(live, live.acme)
    assert httpx.get(f"{live.url}/metrics", timeout=30).status_code == 401
    metrics = httpx.get(f"{live.url}/metrics", headers=live.admin(), timeout=30).text
    for name in ("ownllm_requests_total", "ownllm_tokens_total", "ownllm_time_to_first_token_seconds_bucket",
                 "ownllm_request_seconds_bucket", "ownllm_engine_queue_depth", "ownllm_loaded_models"):
        assert name in metrics, name
    assert 'endpoint="/v1/chat/completions",status="200"' in metrics
    ready = httpx.get(f"{live.url}/readyz", timeout=30)
    assert ready.status_code == 200 and ready.json()["checks"]["catalog"] == "ok"
    assert httpx.get(f"{live.url}/healthz", timeout=30).json()["status"] == "ok"
    preflight = httpx.options(f"{live.url}{CHAT}", headers={"Origin": "https://evil.example",
                                                          "Access-Control-Request-Method": "POST"}, timeout=30)
    assert "access-control-allow-origin" not in preflight.headers  # CORS is off
