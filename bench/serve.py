"""Benchmark: `ownllm serve` (auth, metering and rate limits on) vs llama-cpp-python's own OpenAI server,
in one run, on the same GGUF and the same 32 prompts.

    python bench/serve.py [--concurrency 1 4 16] [--max-tokens 64] [--adapters 3]

Both servers are separate processes on this machine, started fresh; each request streams
(`stream: true`, temperature 0). Per server and concurrency: time to first token p50/p95, output
tokens/s (completion tokens over the wall time of all 32 requests), requests/s, errors and the
server's peak RSS. Then, on ownllm only: the memory each extra loaded LoRA adapter costs and the
time to first token of a cold adapter (its first request) vs a warm one. The adapters are random
LoRAs on SmolLM2 written in GGUF by ownllm's exporter and registered as tuned models.
Completion tokens are counted with the model's own tokenizer on the streamed text, the same way
for both servers.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
TOPICS = ["a lighthouse", "a bakery", "a river", "a violin", "a mountain village", "a robot", "the moon", "a garden",
          "a train station", "a library", "an old bicycle", "a storm", "a chess game", "a market", "a glacier",
          "a fox", "a paper boat", "a night shift", "a museum", "a bridge", "a desert", "a kite", "an orchestra",
          "a snowy forest", "a harbour", "a clock tower", "a beekeeper", "a volcano", "a tea house", "a comet",
          "a workshop", "a ferry"]
PROMPTS = [f"Write a short paragraph about {topic}." for topic in TOPICS]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_ready(url: str, process: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + 120
    while True:
        try:
            if httpx.get(url, timeout=2).status_code < 500:
                return
        except httpx.HTTPError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"server did not start:\n{log.read_text()[-3000:]}")
        time.sleep(0.3)


def _peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def _rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def _one(base: str, key: str | None, model: str, prompt: str, max_tokens: int) -> dict:
    body = {"model": model, "stream": True, "temperature": 0, "max_tokens": max_tokens,
            "messages": [{"role": "user", "content": prompt}]}
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    started = time.monotonic()
    first, text = None, []
    try:
        with httpx.stream("POST", f"{base}/v1/chat/completions", json=body, headers=headers, timeout=600) as response:
            if response.status_code != 200:
                return {"status": response.status_code}
            for line in response.iter_lines():
                if not line.startswith("data: ") or line == "data: [DONE]":
                    continue
                chunk = json.loads(line[6:])
                delta = chunk["choices"][0].get("delta", {}).get("content") if chunk.get("choices") else None
                if delta:
                    first = first or time.monotonic()
                    text.append(delta)
    except httpx.HTTPError as exc:
        return {"status": type(exc).__name__}
    return {"status": 200, "ttft": (first or time.monotonic()) - started, "text": "".join(text)}


def run_load(base: str, key: str | None, model: str, concurrency: int, max_tokens: int, count) -> dict:
    started = time.monotonic()
    with ThreadPoolExecutor(concurrency) as pool:
        results = list(pool.map(lambda p: _one(base, key, model, p, max_tokens), PROMPTS))
    wall = time.monotonic() - started
    ok = [r for r in results if r["status"] == 200]
    ttfts = sorted(r["ttft"] for r in ok)
    tokens = sum(count(r["text"]) for r in ok)
    return {"concurrency": concurrency, "requests": len(results), "errors": len(results) - len(ok),
            "ttft_p50_ms": round(1000 * statistics.median(ttfts), 1) if ttfts else None,
            "ttft_p95_ms": round(1000 * ttfts[min(len(ttfts) - 1, int(0.95 * len(ttfts)))], 1) if ttfts else None,
            "output_tokens_per_s": round(tokens / wall, 1), "requests_per_s": round(len(ok) / wall, 3),
            "wall_s": round(wall, 1)}


def start_ownllm(work: Path, port: int) -> tuple[subprocess.Popen, str, Path]:
    from ownllm.config import Settings
    from ownllm.store.home import open_home
    from ownllm.store.keys import create_key
    from ownllm.store.tenants import create_tenant, update_tenant_settings

    home_dir = work / "ownllm-home"
    home = open_home(Settings(home=home_dir))
    tenant = create_tenant(home, "bench")
    # limits on, high enough not to refuse the benchmark's own load
    update_tenant_settings(home, tenant.id, {"rate_limits": {"requests_per_minute": 100_000,
                                                              "tokens_per_minute": 10_000_000}})
    _, key = create_key(home, tenant.id)
    home.close()
    log = work / "ownllm.log"
    env = {**os.environ, "OWNLLM_HOME": str(home_dir), "OWNLLM_ENGINE_QUEUE": "64"}
    with open(log, "w") as out:
        process = subprocess.Popen([sys.executable, "-m", "ownllm", "serve", "--port", str(port)], env=env,
                                   stdout=out, stderr=subprocess.STDOUT)
    _wait_ready(f"http://127.0.0.1:{port}/health", process, log)
    return process, key, home_dir


def start_peer(work: Path, port: int, gguf: Path) -> subprocess.Popen:
    log = work / "peer.log"
    with open(log, "w") as out:
        process = subprocess.Popen([sys.executable, "-m", "llama_cpp.server", "--model", str(gguf), "--port",
                                    str(port), "--n_ctx", "4096", "--n_threads", str(os.cpu_count() or 2),
                                    # its default lets a new request interrupt the running stream; queue instead
                                    "--interrupt_requests", "False", "--verbose", "False"],
                                   stdout=out, stderr=subprocess.STDOUT)
    _wait_ready(f"http://127.0.0.1:{port}/v1/models", process, log)
    return process


def make_adapters(home_dir: Path, n: int) -> list[str]:
    """Random LoRA adapters on SmolLM2, exported to GGUF and registered for tenant `bench`."""
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    from ownllm.config import Settings
    from ownllm.jobs.tracker import JobTracker
    from ownllm.models.hub import DEFAULT_MODEL_ID
    from ownllm.store.catalog import TunedModel
    from ownllm.store.home import open_home
    from ownllm.store.tenants import get_tenant
    from ownllm.tune.base import float32_weights_folder
    from ownllm.tune.export_gguf import write_lora_gguf

    home = open_home(Settings(home=home_dir))
    tenant = get_tenant(home, "bench")
    folder = float32_weights_folder(DEFAULT_MODEL_ID)
    config = json.loads((folder / "config.json").read_text())
    ids = []
    for index in range(n):
        torch.manual_seed(index)
        model = get_peft_model(AutoModelForCausalLM.from_pretrained(folder), LoraConfig(
            r=16, lora_alpha=32, target_modules=["q_proj", "k_proj", "v_proj", "o_proj"]))
        with torch.no_grad():
            for name, param in model.named_parameters():
                if "lora_B" in name:
                    param.normal_(0, 0.01)
        adapter_dir = home_dir / "bench-adapters" / f"a{index}"
        model.save_pretrained(adapter_dir)
        gguf = write_lora_gguf(adapter_dir, config, adapter_dir / "adapter.gguf")
        job = JobTracker.create(home, "fine_tune", tenant.id)
        model_id = f"ft:{DEFAULT_MODEL_ID}:bench:a{index}:{index:08d}"
        with home.catalog.session() as session:
            session.add(TunedModel(id=model_id, tenant_id=tenant.id, base_model=DEFAULT_MODEL_ID, job_id=job.job_id,
                                   adapter_path=str(adapter_dir), exports={"adapter": str(gguf)}))
        ids.append(model_id)
    home.close()
    return ids


def adapter_costs(base: str, key: str, pid: int, adapters: list[str]) -> list[dict]:
    rows = []
    for model in adapters:
        before = _rss_mb(pid)
        cold = _one(base, key, model, "Say hello.", 8)
        after = _rss_mb(pid)
        warm = _one(base, key, model, "Say hello.", 8)
        rows.append({"adapter": model.split(":")[3], "rss_increase_mb": round(after - before, 1),
                     "cold_ttft_ms": round(1000 * cold.get("ttft", float("nan")), 1),
                     "warm_ttft_ms": round(1000 * warm.get("ttft", float("nan")), 1)})
    return rows


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 4, 16])
    parser.add_argument("--max-tokens", type=int, default=64)
    parser.add_argument("--adapters", type=int, default=3)
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "serve-results.json")
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT / "src"))
    from ownllm.inference.llamacpp import vocab_token_counter
    from ownllm.models.hub import DEFAULT_MODEL_ID, SMOLLM2_135M

    gguf = SMOLLM2_135M.locate()
    count = vocab_token_counter(gguf)
    results: dict = {"load_average_start": os.getloadavg(), "max_tokens": args.max_tokens, "prompts": len(PROMPTS)}
    with tempfile.TemporaryDirectory() as scratch:
        work = Path(scratch)
        port = _free_port()
        ours, key, home_dir = start_ownllm(work, port)
        base = f"http://127.0.0.1:{port}"
        _one(base, key, DEFAULT_MODEL_ID, "warm up", 4)
        results["ownllm"] = [run_load(base, key, DEFAULT_MODEL_ID, c, args.max_tokens, count) for c in args.concurrency]
        results["ownllm_peak_rss_mb"] = round(_peak_rss_mb(ours.pid), 1)
        if args.adapters:
            adapters = make_adapters(home_dir, args.adapters)
            results["adapters"] = adapter_costs(base, key, ours.pid, adapters)
        ours.terminate()
        ours.wait(60)
        peer_port = _free_port()
        peer = start_peer(work, peer_port, gguf)
        peer_base = f"http://127.0.0.1:{peer_port}"
        _one(peer_base, None, DEFAULT_MODEL_ID, "warm up", 4)
        results["llama_cpp_server"] = [run_load(peer_base, None, DEFAULT_MODEL_ID, c, args.max_tokens, count)
                                       for c in args.concurrency]
        results["llama_cpp_server_peak_rss_mb"] = round(_peak_rss_mb(peer.pid), 1)
        peer.terminate()
        peer.wait(60)
    results["load_average_end"] = os.getloadavg()
    args.out.write_text(json.dumps(results, indent=2))
    header = f"{'concurrency':>11} | {'server':<16} | {'TTFT p50':>8} | {'TTFT p95':>8} | {'tok/s':>7} | {'req/s':>6}"
    print(header + " | err")
    for ours_row, peer_row in zip(results["ownllm"], results["llama_cpp_server"], strict=True):
        for name, row in (("ownllm", ours_row), ("llama-cpp server", peer_row)):
            print(f"{row['concurrency']:>11} | {name:<16} | {row['ttft_p50_ms']:>8} | {row['ttft_p95_ms']:>8} | "
                  f"{row['output_tokens_per_s']:>7} | {row['requests_per_s']:>6} | {row['errors']}")
        ttft_ratio = ours_row["ttft_p95_ms"] / peer_row["ttft_p95_ms"] if peer_row["ttft_p95_ms"] else float("nan")
        speed_ratio = ours_row["output_tokens_per_s"] / peer_row["output_tokens_per_s"]
        print(f"{'':>11} | {'ownllm / peer':<16} | {'':>8} | {ttft_ratio:>8.2f} | {speed_ratio:>7.2f} |")
    print(f"peak RSS: ownllm {results['ownllm_peak_rss_mb']} MB, llama-cpp server "
          f"{results['llama_cpp_server_peak_rss_mb']} MB")
    for row in results.get("adapters", []):
        print(f"adapter {row['adapter']}: +{row['rss_increase_mb']} MB RSS, cold TTFT {row['cold_ttft_ms']} ms, "
              f"warm {row['warm_ttft_ms']} ms")
    print(f"load average: start {results['load_average_start']}, end {results['load_average_end']}")


if __name__ == "__main__":
    threading.excepthook = lambda info: None
    main()
