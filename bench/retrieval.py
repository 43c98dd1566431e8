"""Benchmark: retrieval quality and latency, ownllm vs plain baselines, in one run.

    python bench/retrieval.py [--questions 300]

Systems: ownllm BM25 (bm25s + jieba), ownllm dense (multilingual-e5-small + faiss), ownllm
hybrid (RRF), and two baselines a user would hand-roll: rank_bm25 with whitespace tokens, and
brute-force cosine over the same embeddings. Question sets: the sample company's facts.jsonl
(English and Chinese separately; target = source document) and the SQuAD / DRCD subsets in
../shared/testdata/qa (paragraphs are the corpus; target = the gold paragraph). ownllm's systems
run through the real pipeline (ingest -> chunks -> indexes -> search); the baselines get the
same chunks. Then index build time and memory at 10k and 100k synthetic chunks.
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
QA = ROOT.parent / "shared" / "testdata" / "qa"


def build_home(root: Path, files: dict[str, str] | None = None, dropbox: Path | None = None):
    from ownllm.config import Settings
    from ownllm.corpus.versions import get_version
    from ownllm.ingest.pipeline import ingest_paths
    from ownllm.retrieval.indexes import ensure_indexes
    from ownllm.store.home import open_home
    from ownllm.store.tenants import create_tenant

    home = open_home(Settings(home=root / "home"))
    tenant = create_tenant(home, "bench")
    if files is not None:
        dropbox = root / "corpus"
        dropbox.mkdir(parents=True)
        for name, text in files.items():
            (dropbox / name).write_text(text, encoding="utf-8")
    home.settings.__dict__["chunk_tokens"] = 400  # paragraphs stay whole where they fit
    from ownllm.store.catalog import Tenant

    with home.catalog.session() as session:  # benchmark corpora: keep every paragraph, redact nothing
        session.get(Tenant, tenant.id).settings = {"cleaning": {"near_dedupe": False, "pii": {"enabled": False}}}
    ingest_paths(home, tenant.id, [dropbox])
    ensure_indexes(home, get_version(home, tenant.id))
    return home, tenant.id


def chunk_table(home, tenant_id):
    from sqlalchemy import select

    from ownllm.store.catalog import Chunk, Document, File

    with home.catalog.session() as session:
        rows = session.execute(select(Chunk.id, Chunk.text, Document.title, File.original_name)
                               .join(Document, Document.id == Chunk.document_id)
                               .join(File, File.id == Document.file_id)
                               .where(Document.tenant_id == tenant_id)).all()
    return [(cid, f"{title}\n{text}", name) for cid, text, title, name in rows]


def evaluate(home, tenant_id, questions: list[tuple[str, str]]) -> dict[str, dict]:
    """questions: (question, gold file name). Returns metrics per system."""
    from rank_bm25 import BM25Okapi

    from ownllm.retrieval.embeddings import get_embedder
    from ownllm.retrieval.search import search

    chunks = chunk_table(home, tenant_id)
    names = [name for _, _, name in chunks]
    embedder = get_embedder()
    vectors = np.vstack([embedder.embed_passages([text for _, text, _ in chunks[i:i + 64]])
                         for i in range(0, len(chunks), 64)])
    plain = BM25Okapi([text.lower().split() for _, text, _ in chunks])

    def rank_bm25(question: str) -> list[str]:
        scores = plain.get_scores(question.lower().split())
        return [names[i] for i in np.argsort(-scores)[:10]]

    def cosine(question: str) -> list[str]:
        scores = vectors @ embedder.embed_queries([question])[0]
        return [names[i] for i in np.argsort(-scores)[:10]]

    def ours(mode: str):
        return lambda q: [h.file_name for h in search(home, tenant_id, q, top_k=10, mode=mode)]

    systems = {"ownllm BM25": ours("lexical"), "ownllm dense": ours("dense"), "ownllm hybrid": ours("hybrid"),
               "rank_bm25 (whitespace)": rank_bm25, "brute-force cosine": cosine}
    results = {}
    for system, run in systems.items():
        hits = {1: 0, 5: 0, 10: 0}
        reciprocal, latencies = 0.0, []
        for question, gold in questions:
            started = time.perf_counter()
            ranked = run(question)
            latencies.append((time.perf_counter() - started) * 1000)
            position = ranked.index(gold) + 1 if gold in ranked else None
            for k in hits:
                hits[k] += position is not None and position <= k
            reciprocal += 1 / position if position else 0.0
        n = len(questions)
        results[system] = {"recall@1": hits[1] / n, "recall@5": hits[5] / n, "recall@10": hits[10] / n,
                           "mrr": reciprocal / n, "p50_ms": statistics.median(latencies),
                           "p95_ms": float(np.percentile(latencies, 95)), "questions": n}
    return results


def squad_like(path: Path, limit: int, seed: int) -> tuple[dict[str, str], list[tuple[str, str]]]:
    data = json.loads(path.read_text(encoding="utf-8"))["data"]
    files, questions = {}, []
    for a, article in enumerate(data):
        for p, paragraph in enumerate(article["paragraphs"]):
            name = f"a{a:02d}p{p:03d}.txt"
            files[name] = paragraph["context"]
            questions += [(qa["question"], name) for qa in paragraph["qas"]]
    random.Random(seed).shuffle(questions)
    return files, questions[:limit]


def scale(counts: tuple[int, ...] = (10_000, 100_000)) -> list[dict]:
    """BM25 and vector-index build time, memory and query latency on synthetic chunks."""
    import bm25s
    import faiss

    from ownllm.retrieval.dense import make_faiss_index
    from ownllm.retrieval.embeddings import get_embedder
    from ownllm.retrieval.tokenize import tokenize

    words = ["warranty", "battery", "frame", "motor", "price", "delivery", "return", "policy", "leave",
             "employee", "scooter", "bike", "charger", "firmware", "dealer", "store", "service", "hotline",
             "canteen", "parking", "badge", "audit", "supplier"]
    zh = list("保修电池车架电机价格交付退货政策员工滑板车充电器固件经销商门店服务热线")
    rng = random.Random(7)
    embed_rate = _embedding_rate(get_embedder())
    rows = []
    for count in counts:
        texts = [" ".join(rng.choices(words, k=40)) + " " + "".join(rng.choices(zh, k=30)) + f" VM-{i}"
                 for i in range(count)]
        rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        started = time.perf_counter()
        retriever = bm25s.BM25()
        retriever.index([tokenize(t) for t in texts], show_progress=False)
        bm25_build = time.perf_counter() - started
        queries = [tokenize(" ".join(rng.choices(words, k=4)) + "保修") for _ in range(50)]
        lat = []
        for q in queries:
            t0 = time.perf_counter()
            retriever.retrieve([q], k=10, show_progress=False, n_threads=1)
            lat.append((time.perf_counter() - t0) * 1000)
        vectors = np.random.default_rng(7).standard_normal((count, 384)).astype(np.float32)
        vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
        started = time.perf_counter()
        index = make_faiss_index(vectors)
        faiss_build = time.perf_counter() - started
        dlat = []
        for i in range(50):
            t0 = time.perf_counter()
            index.search(vectors[i:i + 1], 10)
            dlat.append((time.perf_counter() - t0) * 1000)
        rows.append({"chunks": count, "bm25_build_s": bm25_build, "bm25_p95_ms": float(np.percentile(lat, 95)),
                     "vector_index": type(index).__name__, "vector_build_s": faiss_build,
                     "vector_p95_ms": float(np.percentile(dlat, 95)),
                     "embedding_hours_est": count / embed_rate / 3600,
                     "rss_growth_mb": (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - rss_before) / 1024})
        del retriever, index, vectors, texts
        faiss.omp_set_num_threads(2)
    return rows


def _embedding_rate(embedder) -> float:
    sample = ["The Aurel Pro 500 is our touring e-bike; it sells for 3,640 USD and launched in May."] * 64
    started = time.perf_counter()
    embedder.embed_passages(sample)
    return len(sample) / (time.perf_counter() - started)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--questions", type=int, default=300, help="questions sampled per QA set")
    parser.add_argument("--out", default=str(ROOT / "bench" / "retrieval-results.json"))
    args = parser.parse_args()
    from ownllm.samples.generate import generate

    work = Path(tempfile.mkdtemp(prefix="ownllm-retrieval-"))
    company = generate(work / "company")
    home, tenant_id = build_home(work / "sample", dropbox=company.dropbox)
    facts = company.facts()
    report = {}
    for lang in ("en", "zh"):
        report[f"sample company ({lang})"] = evaluate(home, tenant_id, [(f["question"], f["source"])
                                                                         for f in facts if f["lang"] == lang])
    for label, name in (("SQuAD subset (en)", "squad-dev-subset.json"), ("DRCD subset (zh)", "drcd-dev-subset.json")):
        if (QA / name).exists():
            files, questions = squad_like(QA / name, args.questions, seed=1)
            qa_home, qa_tenant = build_home(work / name.split(".")[0], files=files)
            report[label] = evaluate(qa_home, qa_tenant, questions)
    report["scale"] = scale()
    Path(args.out).write_text(json.dumps(report, indent=1, ensure_ascii=False))

    for label, systems in report.items():
        if label == "scale":
            continue
        n = next(iter(systems.values()))["questions"]
        print(f"\n{label}: {n} questions")
        print(f"  {'system':24s} {'R@1':>6s} {'R@5':>6s} {'R@10':>6s} {'MRR':>6s} {'p50 ms':>8s} {'p95 ms':>8s}")
        for system, m in systems.items():
            print(f"  {system:24s} {m['recall@1']:6.3f} {m['recall@5']:6.3f} {m['recall@10']:6.3f} {m['mrr']:6.3f}"
                  f" {m['p50_ms']:8.1f} {m['p95_ms']:8.1f}")
    print("\nscale (synthetic chunks):")
    for row in report["scale"]:
        print(f"  {row['chunks']:>7d} chunks: BM25 build {row['bm25_build_s']:.1f} s, p95 {row['bm25_p95_ms']:.1f} ms; "
              f"{row['vector_index']} build {row['vector_build_s']:.1f} s, p95 {row['vector_p95_ms']:.2f} ms; "
              f"RSS +{row['rss_growth_mb']:.0f} MB; embedding them here ≈ {row['embedding_hours_est']:.1f} h")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
