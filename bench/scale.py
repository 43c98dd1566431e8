"""Scale-out on one machine, in one run: the local runner against Ray with 1 and 2 workers or replicas.

- ingest: the sample company's files parsed (files/s), local worker processes vs Ray Data tasks;
- tuning: SmolLM2-135M LoRA steps (trained tokens/s), the local trainer vs Ray Train with 1 and 2 workers;
- serving: chat completions from concurrent clients (requests/s, completion tokens/s), one `ownllm serve`
  process vs Ray Serve with 1 and 2 replicas (autoscaling pinned: min = max).

A 2-core machine bounds what 2 workers can gain; the point is that the Ray paths cost little over the local
ones and use the cores they are given. Prints a Markdown table and writes bench/scale-results.json.

    .venv/bin/python bench/scale.py [--steps 6] [--requests 24] [--clients 4] [--stages ingest,tuning,serving]
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx

from ownllm.config import Settings
from ownllm.ingest.pipeline import ingest_paths
from ownllm.jobs.ray_cluster import ensure_ray
from ownllm.models.hub import DEFAULT_MODEL_ID
from ownllm.samples.generate import generate
from ownllm.store.home import open_home
from ownllm.store.keys import create_key
from ownllm.store.tenants import create_tenant
from ownllm.tune.run import TuneRequest, tune


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def bench_ingest(root: Path, dropbox: Path) -> list[dict]:
    rows = []
    for label, runner, workers in (("local, 2 worker processes", "local", 2), ("Ray Data, 1 worker", "ray", 1),
                                   ("Ray Data, 2 workers", "ray", 2)):
        home = open_home(Settings(home=root / f"ingest-{runner}-{workers}", runner=runner, ray_workers=workers,
                                  ingest_workers=workers))
        tenant = create_tenant(home, "acme")
        started = time.perf_counter()
        report = ingest_paths(home, tenant.id, [dropbox])
        seconds = time.perf_counter() - started
        files = len(report.outcomes)
        rows.append({"what": "ingest", "how": label, "files": files, "seconds": round(seconds, 1),
                     "rate": round(files / seconds, 2), "unit": "files/s"})
        print(rows[-1], flush=True)
        home.close()
    return rows


def _training_file(path: Path, facts: list[dict]) -> Path:
    lines = [json.dumps({"messages": [{"role": "user", "content": fact["question"]},
                                      {"role": "assistant", "content": f"{fact['answer']}. {fact['evidence']}"}]},
                        ensure_ascii=False) for fact in facts[:96]]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def bench_tuning(root: Path, training_file: Path, steps: int) -> list[dict]:
    rows = []
    recipe = {"stages.0.max_steps": steps, "training.batch_size": 2, "training.grad_accum": 2,
              "training.seq_len": 256, "training.save_every": 1000, "lora.dropout": 0.0}
    for label, runner, workers in (("local trainer", "local", 1), ("Ray Train, 1 worker", "ray", 1),
                                   ("Ray Train, 2 workers (DDP)", "ray", 2)):
        home = open_home(Settings(home=root / f"tune-{runner}-{workers}", runner=runner, ray_workers=workers))
        tenant = create_tenant(home, "acme")
        started = time.perf_counter()
        outcome = tune(home, tenant.id, TuneRequest(base_model=DEFAULT_MODEL_ID, training_file=training_file,
                                                    dataset=None, overrides=recipe, export_adapter=False))
        wall = time.perf_counter() - started
        result = outcome.result
        rows.append({"what": "tuning", "how": label, "steps": result.steps, "tokens": result.trained_tokens,
                     "train_seconds": round(result.seconds, 1), "seconds": round(wall, 1),
                     "rate": round(result.trained_tokens / result.seconds, 1), "unit": "trained tokens/s",
                     "final_loss": round(result.final_loss or 0.0, 4)})
        print(rows[-1], flush=True)
        home.close()
    return rows


def _load(base: str, key: str, requests: int, clients: int) -> tuple[float, int]:
    body = {"model": DEFAULT_MODEL_ID, "temperature": 0, "max_tokens": 32,
            "messages": [{"role": "user", "content": "Name three colours of a bicycle frame."}]}
    tokens, lock, left = [0], threading.Lock(), [requests]

    def client() -> None:
        with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {key}"}, timeout=300) as http:
            while True:
                with lock:
                    if left[0] == 0:
                        return
                    left[0] -= 1
                reply = http.post("/v1/chat/completions", json=body)
                reply.raise_for_status()
                with lock:
                    tokens[0] += reply.json()["usage"]["completion_tokens"]

    http = httpx.Client(base_url=base, headers={"Authorization": f"Bearer {key}"}, timeout=300)
    http.post("/v1/chat/completions", json=body).raise_for_status()  # the model is loaded before timing
    started = time.perf_counter()
    threads = [threading.Thread(target=client) for _ in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return time.perf_counter() - started, tokens[0]


def _up(base: str, timeout_s: float = 180) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{base}/health", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    raise RuntimeError(f"{base} did not come up")


def bench_serving(root: Path, requests: int, clients: int) -> list[dict]:
    from ownllm.serve import scale

    home = open_home(Settings(home=root / "serve"))
    tenant = create_tenant(home, "acme")
    _, key = create_key(home, tenant.id)
    rows = []
    port = _free_port()
    process = subprocess.Popen([sys.executable, "-m", "ownllm", "serve", "--port", str(port)],
                               env={**os.environ, "OWNLLM_HOME": str(home.root)}, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
    try:
        _up(f"http://127.0.0.1:{port}")
        seconds, tokens = _load(f"http://127.0.0.1:{port}", key, requests, clients)
        rows.append({"what": "serving", "how": "ownllm serve, 1 process", "requests": requests,
                     "seconds": round(seconds, 1), "rate": round(requests / seconds, 2), "unit": "requests/s",
                     "tokens_per_s": round(tokens / seconds, 1)})
        print(rows[-1], flush=True)
    finally:
        process.terminate()
        process.wait(30)
    for replicas in (1, 2):
        # with 2 replicas, at most `clients / 2` requests each, so that the one model is served by both
        update: dict[str, object] = {"serve_min_replicas": replicas, "serve_max_replicas": replicas}
        if replicas > 1:
            update["serve_max_ongoing_requests"] = max(1, clients // replicas)
        settings = home.settings.model_copy(update=update)
        port = _free_port()
        scale.start(settings, port=port)
        try:
            _up(f"http://127.0.0.1:{port}")
            while scale.replica_count() < replicas:
                time.sleep(0.5)
            seconds, tokens = _load(f"http://127.0.0.1:{port}", key, requests, clients)
            rows.append({"what": "serving", "how": f"Ray Serve, {replicas} replica{'s' if replicas > 1 else ''}",
                         "requests": requests, "seconds": round(seconds, 1), "rate": round(requests / seconds, 2),
                         "unit": "requests/s", "tokens_per_s": round(tokens / seconds, 1)})
            print(rows[-1], flush=True)
        finally:
            scale.stop()
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--steps", type=int, default=6)
    parser.add_argument("--requests", type=int, default=24)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--stages", default="ingest,tuning,serving", help="comma-separated subset to run")
    args = parser.parse_args()
    stages = set(args.stages.split(","))
    root = Path(tempfile.mkdtemp(prefix="ownllm-scale-"))
    ensure_ray(Settings(runner="ray", ray_workers=2))
    company = generate(root / "company")
    rows = bench_ingest(root, company.dropbox) if "ingest" in stages else []
    if "tuning" in stages:
        rows += bench_tuning(root, _training_file(root / "train.jsonl", company.facts()), args.steps)
    if "serving" in stages:
        rows += bench_serving(root, args.requests, args.clients)
    print(f"\nload average at the end: {os.getloadavg()[0]:.2f}\n")
    print("| stage | how | rate | unit | seconds |\n| --- | --- | ---: | --- | ---: |")
    for row in rows:
        print(f"| {row['what']} | {row['how']} | {row['rate']} | {row['unit']} | {row['seconds']} |")
    Path(__file__).with_name("scale-results.json").write_text(json.dumps(rows, indent=2))


if __name__ == "__main__":
    main()
