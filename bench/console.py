"""Server time of every console page on the sample company, next to the API call that reads the same data.

Starts `ownllm serve` on a home (a copy of `make demo`'s, or a fresh one: the sample company generated and
ingested), signs in with a new key of the tenant, then fetches each page `--repeat` times. Prints the first
fetch, the median and the slowest of the rest (milliseconds, measured at the client over loopback, so an upper
bound of the server's time), and the same for the API endpoint beside it. Target: no page over 300 ms.

    .venv/bin/python bench/console.py --home /tmp/consolehome --tenant acme
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

from ownllm.config import Settings
from ownllm.store.home import open_home
from ownllm.store.keys import create_key
from ownllm.store.tenants import create_tenant, get_tenant


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _fresh_home(root: Path, tenant: str) -> None:
    """The sample company ingested into a new home (a few minutes: parsing, OCR, ASR and the indexes)."""
    from ownllm.samples.generate import generate
    from ownllm.services.ingestion import ingest_paths_and_index

    company = generate(root / "company")
    home = open_home(Settings(home=root / "home"))
    created = create_tenant(home, tenant)
    ingest_paths_and_index(home, created.id, [company.dropbox])
    home.close()


def _time(client: httpx.Client, path: str, repeat: int, **kwargs: object) -> tuple[float, float, float, int]:
    times, status = [], 0
    for _ in range(repeat + 1):
        started = time.perf_counter()
        response = client.get(path, **kwargs)  # type: ignore[arg-type]
        times.append((time.perf_counter() - started) * 1000)
        status = response.status_code
    rest = times[1:]
    return times[0], statistics.median(rest), max(rest), status


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--home", type=Path, help="an existing home (copied first; default: a fresh sample company)")
    parser.add_argument("--tenant", default="acme")
    parser.add_argument("--repeat", type=int, default=10)
    args = parser.parse_args()
    scratch = Path(tempfile.mkdtemp(prefix="ownllm-console-bench-"))
    if args.home:
        shutil.copytree(args.home, scratch / "home")
    else:
        _fresh_home(scratch, args.tenant)
    home = open_home(Settings(home=scratch / "home"))
    tenant = get_tenant(home, args.tenant)
    _, key = create_key(home, tenant.id, "console-bench")
    home.close()
    port = _free_port()
    server = subprocess.Popen([sys.executable, "-m", "ownllm", "serve", "--port", str(port)],
                              env={**os.environ, "OWNLLM_HOME": str(scratch / "home")},
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{base}/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.2)
            if time.monotonic() > deadline:
                raise SystemExit("the server did not start")
        console = httpx.Client(base_url=base, timeout=60)
        token = re.search(r'name="csrf" value="([0-9a-f.]+)"', console.get("/console/login").text).group(1)
        console.post("/console/login", data={"key": key, "csrf": token})
        api = httpx.Client(base_url=base, timeout=60, headers={"Authorization": f"Bearer {key}"})

        def first(path: str, pattern: str) -> str | None:
            found = re.search(pattern, console.get(path).text)
            return found.group(1) if found else None

        version = first("/console/corpus", r'href="(/console/corpus/\d+)"')
        document = first(version, r'href="(/console/documents/[^"]+)"') if version else None
        pdf_chunk = None
        for doc in re.findall(r'href="(/console/documents/[^"]+)"[^<]*</a></td><td>[^<]*\.pdf<',
                              console.get(version).text if version else ""):
            pdf_chunk = first(doc, r'href="(/console/chunks/chk_\w+)"')
            break
        dataset = first("/console/training", r'href="(/console/training/ds_\w+)"')
        tuning = first("/console/tuning", r'href="(/console/tuning/job_\w+)"')
        evaluation = first("/console/evals", r'href="(/console/evals/job_\w+)"')
        pages: list[tuple[str, str | None, str | None, dict]] = [
            ("data space", "/console/data", "/v1/files", {}),
            ("corpus", "/console/corpus", "/v1/corpus", {}),
            ("corpus version", version, None, {}),
            ("document", document, None, {}),
            ("chunk (pdf)", pdf_chunk, None, {}),
            ("chunk preview (pdf page)", f"{pdf_chunk}/preview" if pdf_chunk else None, None, {}),
            ("search en (hybrid)", "/console/search?q=frame+warranty+years", "/v1/search",
             {"json": {"query": "frame warranty years"}}),
            ("search zh (hybrid)", "/console/search?q=收货后多少天内可以退货", "/v1/search",
             {"json": {"query": "收货后多少天内可以退货"}}),
            ("training data", "/console/training", None, {}),
            ("dataset records", dataset, None, {}),
            ("tuning", "/console/tuning", "/v1/fine_tuning/jobs", {}),
            ("tuning run", tuning, None, {}),
            ("evaluations", "/console/evals", None, {}),
            ("evaluation report", evaluation, None, {}),
            ("models", "/console/models", "/v1/models", {}),
            ("playground", "/console/playground", None, {}),
            ("apps", "/console/apps", "/v1/apps", {}),
            ("usage", "/console/usage", "/v1/usage", {}),
        ]
        load = os.getloadavg()[0]
        print(f"console pages on {args.home or 'a fresh sample company'} (tenant {args.tenant}), "
              f"{args.repeat} fetches after the first, load {load:.1f}")
        print(f"{'page':28} {'status':>6} {'first':>8} {'median':>8} {'max':>8}   {'API beside it':28} {'median':>8}")
        worst = 0.0
        for name, path, api_path, api_kwargs in pages:
            if path is None:
                print(f"{name:28} {'—':>6}  (nothing of this kind in the home)")
                continue
            first_ms, median_ms, max_ms, status = _time(console, path, args.repeat)
            worst = max(worst, max_ms)
            beside = ""
            if api_path:
                if "json" in api_kwargs:
                    times = []
                    for _ in range(args.repeat):
                        started = time.perf_counter()
                        api.post(api_path, json=api_kwargs["json"])
                        times.append((time.perf_counter() - started) * 1000)
                    beside = f"{'POST ' + api_path:28} {statistics.median(times):8.1f}"
                else:
                    beside = f"{'GET ' + api_path:28} {_time(api, api_path, args.repeat)[1]:8.1f}"
            print(f"{name:28} {status:>6} {first_ms:8.1f} {median_ms:8.1f} {max_ms:8.1f}   {beside}")
        print(f"slowest page after its first fetch: {worst:.1f} ms (target 300 ms)")
    finally:
        server.terminate()
        server.wait(timeout=30)
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
