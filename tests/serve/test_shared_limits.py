"""Rate limits shared through the catalog: two limiters over one home stand for two server replicas (the
Makefile runs this file on PostgreSQL too), and two real server processes share a tenant's limit."""

from __future__ import annotations

import threading

import httpx
import pytest

from ownllm.errors import RateLimited
from ownllm.serve.auth import SharedAuthThrottle, make_auth_throttle
from ownllm.serve.ratelimit import Limit, SharedRateLimiter, make_rate_limiter
from ownllm.store.home import Home
from ownllm.store.tenants import create_tenant


@pytest.fixture
def tenant(home: Home) -> str:
    return create_tenant(home, "shared").id


def test_two_replicas_count_against_one_request_limit(home: Home, tenant: str) -> None:
    replicas = [SharedRateLimiter(home), SharedRateLimiter(home)]
    limits = [Limit(f"tenant:{tenant}", 5, None)]
    for index in range(5):
        admitted = replicas[index % 2].admit(tenant, limits, None)
        assert int(admitted.headers["x-ratelimit-remaining-requests"]) == 4 - index
    for replica in replicas:
        with pytest.raises(RateLimited) as refused:
            replica.admit(tenant, limits, None)
        assert refused.value.retry_after is not None and 0 < refused.value.retry_after <= 60


def test_tokens_charged_on_one_replica_limit_the_other(home: Home, tenant: str) -> None:
    a, b = SharedRateLimiter(home), SharedRateLimiter(home)
    limits = [Limit("key:k1", None, 100)]
    a.charge(a.admit(tenant, limits, None), 60)
    b.charge(b.admit(tenant, limits, None), 50)
    with pytest.raises(RateLimited, match="100 tokens per minute"):
        a.admit(tenant, limits, None)


def test_racing_replicas_admit_exactly_the_limit(home: Home, tenant: str) -> None:
    replicas = [SharedRateLimiter(home), SharedRateLimiter(home)]
    limits = [Limit(f"tenant:{tenant}:race", 10, None)]
    admitted: list[int] = []
    barrier = threading.Barrier(8)

    def hammer(index: int) -> None:
        barrier.wait()
        for _ in range(4):
            try:
                replicas[index % 2].admit(tenant, limits, None)
                admitted.append(index)
            except RateLimited:
                pass

    threads = [threading.Thread(target=hammer, args=(i,)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(admitted) == 10  # 32 attempts, 10 admitted between both replicas, none over


def test_the_monthly_quota_reads_what_every_replica_metered(home: Home, tenant: str) -> None:
    from ownllm.store.usage import Usage, UsageWriter

    writer = UsageWriter(home)
    writer.record(Usage(tenant_id=tenant, key_id=None, model="m", endpoint="/v1/chat/completions", status=200,
                        prompt_tokens=700, completion_tokens=400, latency_ms=1.0, ttft_ms=None, cpu_seconds=0.0))
    writer.close()  # another replica wrote this usage; this one has never charged anything
    with pytest.raises(RateLimited, match="monthly quota"):
        SharedRateLimiter(home).admit(tenant, [], 1000)


def test_failed_sign_ins_on_one_replica_throttle_the_other(home: Home) -> None:
    a, b = SharedAuthThrottle(home, 3), SharedAuthThrottle(home, 3)
    long_address = "key:ABCDEF@" + "2001:db8:85a3:0:0:8a2e:370:7334%" * 3  # longer than a counter's subject
    for replica in (a, b, a):
        replica.check("ip:10.0.0.9", long_address)
        replica.failed("ip:10.0.0.9", long_address)
    for replica in (a, b):
        with pytest.raises(RateLimited) as refused:
            replica.check("ip:10.0.0.9")
        assert refused.value.code == "too_many_auth_failures"
        with pytest.raises(RateLimited):
            replica.check(long_address)
    b.check("ip:10.0.0.10")  # another address is not throttled


def test_the_limiter_is_shared_on_postgresql_or_when_asked(tmp_path) -> None:
    from tests.conftest import make_home

    assert isinstance(make_rate_limiter(make_home(tmp_path / "a", shared_rate_limits=True)), SharedRateLimiter)
    local = make_home(tmp_path / "b", database_url=f"sqlite:///{tmp_path / 'b.db'}")
    assert not isinstance(make_rate_limiter(local), SharedRateLimiter)
    assert isinstance(make_auth_throttle(make_home(tmp_path / "c", shared_rate_limits=True)), SharedAuthThrottle)
    assert not isinstance(make_auth_throttle(local), SharedAuthThrottle)


def test_two_server_processes_share_a_tenants_limit(tmp_path) -> None:
    """Two `ownllm serve` processes over one catalog (PostgreSQL in that run): a tenant allowed 4 requests a
    minute gets 3 from one and 1 from the other, then 429 from both."""
    import subprocess
    import sys

    from ownllm.store.keys import create_key
    from ownllm.store.tenants import update_tenant_settings
    from tests.conftest import make_home, server_env
    from tests.e2e.conftest import _free_port, wait_until_up

    home = make_home(tmp_path / "home", shared_rate_limits=True)
    tenant = create_tenant(home, "limited")
    update_tenant_settings(home, tenant.id, {"rate_limits": {"requests_per_minute": 4}})
    _, key = create_key(home, tenant.id)
    env = {**server_env(home), "OWNLLM_SHARED_RATE_LIMITS": "true"}
    processes, urls = [], []
    for _ in range(2):
        port = _free_port()
        processes.append(subprocess.Popen([sys.executable, "-m", "ownllm", "serve", "--port", str(port)], env=env,
                                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        urls.append(f"http://127.0.0.1:{port}")
    try:
        for url, process in zip(urls, processes, strict=True):
            wait_until_up(url, process)
        headers = {"Authorization": f"Bearer {key}"}
        body = {"input": ["one"], "model": "multilingual-e5-small"}
        statuses = [httpx.post(f"{urls[i]}/v1/embeddings", json=body, headers=headers, timeout=60).status_code
                    for i in (0, 0, 0, 1)]
        assert statuses == [200, 200, 200, 200]
        assert httpx.post(f"{urls[1]}/v1/embeddings", json=body, headers=headers, timeout=60).status_code == 429
        assert httpx.post(f"{urls[0]}/v1/embeddings", json=body, headers=headers, timeout=60).status_code == 429
    finally:
        for process in processes:
            process.terminate()
            process.wait(timeout=30)
        home.close()
