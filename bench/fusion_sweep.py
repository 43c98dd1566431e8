"""Sweep hybrid fusion settings offline, to choose the default with evidence.

    python bench/fusion_sweep.py [--questions 300]

For every question of the SQuAD and DRCD subsets and the sample company's facts, the BM25 and
dense candidate lists (pool 40) are computed once through ownllm's real indexes; each fusion
setting then re-ranks them, and recall@5 / MRR are reported per set. SQuAD picks the setting;
DRCD and the sample company check it on questions the choice never saw.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from retrieval import QA, build_home, squad_like

POOL = 40
SETTINGS = [("rrf", k, 0.5) for k in (1, 5, 10, 20, 30, 60, 100)] + [
    ("weighted", 60, a) for a in (0.3, 0.4, 0.5, 0.6, 0.7, 0.8)]


def candidate_lists(home, tenant_id, questions):
    from sqlalchemy import select

    from ownllm.corpus.versions import get_version
    from ownllm.retrieval.dense import get_dense
    from ownllm.retrieval.embeddings import get_embedder
    from ownllm.retrieval.lexical import get_index
    from ownllm.store.catalog import Chunk, Document, File

    version = get_version(home, tenant_id)
    with home.catalog.session() as session:
        names = dict(session.execute(select(Chunk.id, File.original_name).join(Document, Document.id ==
                     Chunk.document_id).join(File, File.id == Document.file_id)).all())
    lexical_index, dense_index = get_index(home, version), get_dense(home, version)
    vectors = get_embedder().embed_queries([q for q, _ in questions])
    out = []
    for (question, gold), vector in zip(questions, vectors, strict=True):
        out.append((lexical_index.search(question, POOL), dense_index.search(vector, POOL), gold))
    return out, names


def score(lists, names, method, k, alpha):
    from ownllm.retrieval.hybrid import FusionConfig, fuse

    hits5, mrr = 0, 0.0
    for lexical, dense, gold in lists:
        ranked = fuse(lexical, dense, FusionConfig(method=method, rrf_k=k, alpha=alpha))
        files = []
        for chunk_id, _ in ranked:
            name = names[chunk_id]
            if name not in files:
                files.append(name)
        position = files.index(gold) + 1 if gold in files else None
        hits5 += bool(position and position <= 5)
        mrr += 1 / position if position else 0.0
    return hits5 / len(lists), mrr / len(lists)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--questions", type=int, default=300)
    args = parser.parse_args()
    sets = {}
    with tempfile.TemporaryDirectory() as tmp:
        for label, name in (("SQuAD", "squad-dev-subset.json"), ("DRCD", "drcd-dev-subset.json")):
            files, questions = squad_like(QA / name, args.questions, seed=1)
            home, tenant = build_home(Path(tmp) / label, files=files)
            sets[label] = candidate_lists(home, tenant, questions)
        from ownllm.samples.generate import generate

        company = generate(Path(tmp) / "company")
        home, tenant = build_home(Path(tmp) / "company-home", dropbox=company.dropbox)
        facts = [json.loads(line) for line in company.facts_path.read_text().splitlines()]
        sets["sample company"] = candidate_lists(home, tenant, [(f["question"], f["source"]) for f in facts])
        print("| fusion | " + " | ".join(f"{s} R@5 | {s} MRR" for s in sets) + " |")
        print("|---|" + "---:|" * (2 * len(sets)))
        for method, k, alpha in SETTINGS:
            label = f"rrf k={k}" if method == "rrf" else f"weighted alpha={alpha}"
            cells = [score(lists, names, method, k, alpha) for lists, names in sets.values()]
            print(f"| {label} | " + " | ".join(f"{r:.3f} | {m:.3f}" for r, m in cells) + " |")
        for label, (lists, names) in sets.items():
            lex = score([(lx, [], g) for lx, _, g in lists], names, "rrf", 60, 0.5)
            den = score([([], dn, g) for _, dn, g in lists], names, "rrf", 60, 0.5)
            print(f"{label}: BM25 alone R@5 {lex[0]:.3f}, dense alone R@5 {den[0]:.3f}")


if __name__ == "__main__":
    main()
