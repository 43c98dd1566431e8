"""Benchmark: how many of a company's facts the model-free fact generator asks about.

    python bench/fact_coverage.py [--home .demo/home --tenant acme] [--sample 20] [--seed 0] [--misses 100]
        [--show-kinds description,colour,options]

Closed-book recall can only come from facts the training data states as question and answer. On the sample
company (every fact known, with its natural question), this prints the share of facts whose exact answer some
fact record of the same document gives ("exact"), or overlaps ("partial"), per language, and the records by
kind. Without `--home` it generates and ingests the sample company first (a few minutes). On the real
documents of ../shared/testdata (no answers known) it prints how many records each kind makes and a random
sample of them to read, since a pattern that is general must also stay sensible on documents nobody wrote for it;
the same for the paragraphs of the public QA sets (SQuAD, DRCD).
"""

from __future__ import annotations

import argparse
import random
import re
import tempfile
from collections import Counter, defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
REAL_DOCS = [ROOT.parent / "shared" / "testdata" / "real-docs", ROOT.parent / "shared" / "testdata" / "real-docs-2"]
# public reading-comprehension sets: encyclopedic prose in English and traditional Chinese, nobody's datasheets
QA_SETS = [(ROOT.parent / "shared" / "testdata" / "qa" / "squad-dev-subset.json", "en"),
           (ROOT.parent / "shared" / "testdata" / "qa" / "drcd-dev-subset.json", "zh")]


def _norm(text: str) -> str:
    return re.sub(r"[\s,]", "", text.casefold())


def sample_company_coverage(home_path: Path | None, tenant_name: str, misses: int = 0) -> None:
    from ownllm.config import Settings
    from ownllm.ingest.pipeline import ingest_paths
    from ownllm.samples.generate import generate
    from ownllm.store.home import open_home
    from ownllm.store.tenants import create_tenant, get_tenant
    from ownllm.synth.facts import fact_pairs
    from ownllm.synth.source import load_corpus
    from ownllm.synth.subjects import shared_headings

    work = Path(tempfile.mkdtemp(prefix="ownllm-facts-"))
    company = generate(work / "company")
    if home_path is None:
        home = open_home(Settings(home=work / "home"))
        tenant = create_tenant(home, tenant_name).id
        ingest_paths(home, tenant, [company.dropbox])
    else:
        home = open_home(Settings(home=home_path))
        tenant = get_tenant(home, tenant_name).id
    corpus = load_corpus(home, tenant)
    generic = shared_headings(corpus.documents)
    answers: dict[str, set[str]] = defaultdict(set)
    kinds: Counter[str] = Counter()
    for document in corpus.documents:
        for chunk in document.chunks:
            for pair in fact_pairs(chunk, document, generic):
                answers[document.name].add(_norm(pair.answer))
                kinds[pair.meta.get("kind", "?")] += 1
    print(f"sample company: {len(corpus.documents)} documents, {sum(kinds.values())} fact records")
    print("  by kind: " + ", ".join(f"{kind} {n}" for kind, n in kinds.most_common()))
    for lang in ("en", "zh", None):
        facts = [f for f in company.facts() if lang is None or f["lang"] == lang]
        exact = sum(_norm(f["answer"]) in answers[f["source"]] for f in facts)
        partial = sum(_norm(f["answer"]) not in answers[f["source"]] and any(
            a and (a in _norm(f["answer"]) or _norm(f["answer"]) in a) for a in answers[f["source"]]) for f in facts)
        print(f"  {lang or 'all':3s} facts {len(facts):3d}: exact answer asked {exact / len(facts):.3f}, "
              f"partly {partial / len(facts):.3f}")
    missed = [f for f in company.facts() if _norm(f["answer"]) not in answers[f["source"]]]
    for fact in missed[:misses]:
        print(f"  missed [{fact['source']}] {fact['question']!r} -> {fact['answer']!r}")


def _show(pairs: list, kinds: set[str]) -> None:
    for pair in pairs:
        if pair.meta.get("kind") in kinds:
            print(f"    {pair.meta.get('kind')}: {pair.question[:110]!r} -> {pair.answer[:60]!r}")


def real_documents(sample: int, seed: int, show_kinds: set[str]) -> None:
    from ownllm.ingest.chunk import layout
    from ownllm.ingest.cleaning.run import clean_document
    from ownllm.ingest.detect import detect_type
    from ownllm.ingest.parsed import ParseError
    from ownllm.ingest.parsers import IMAGE_TYPES, MEDIA_TYPES, parse
    from ownllm.store.tenant_settings import CleaningConfig
    from ownllm.synth.facts import fact_pairs
    from ownllm.synth.source import SourceChunk, SourceDocument
    from ownllm.text import question_lang

    pairs = []
    files = 0
    for folder in REAL_DOCS:
        for path in sorted(p for p in folder.glob("*") if p.is_file() and p.suffix not in (".tsv", ".md")):
            data = path.read_bytes()
            kind = detect_type(data, path.name).type
            if kind in IMAGE_TYPES or kind in MEDIA_TYPES:
                continue  # OCR and speech would take minutes here and test the readers, not the generator
            try:
                document = parse(data, kind, path.name)
            except ParseError:
                continue  # the ones MANIFEST.tsv says must be refused
            clean_document(document, CleaningConfig(), b"bench" * 8)
            text = layout(document)[0] if document.has_text else ""
            source = SourceDocument(path.name, path.name, path.stem, "en")
            for index in range(0, min(len(text), 30000), 1500):  # chunks of about the size ingest makes
                block = text[index:index + 1500]
                source.chunks.append(SourceChunk(f"{path.name}#{index}", path.name, block,
                                                 question_lang(block) or "en", None, f"offset {index}"))
            files += 1
            pairs += [pair for chunk in source.chunks for pair in fact_pairs(chunk, source)]
    kinds = Counter(pair.meta.get("kind", "?") for pair in pairs)
    print(f"\nreal documents (../shared/testdata/real-docs, real-docs-2; {files} text files): {len(pairs)} records")
    print("  by kind: " + ", ".join(f"{kind} {n}" for kind, n in kinds.most_common()))
    chosen = random.Random(seed).sample(pairs, min(sample, len(pairs)))
    for pair in chosen:
        print(f"  [{pair.meta.get('kind')}] {pair.question[:110]!r} -> {pair.answer[:50]!r}")
    _show(pairs, show_kinds)


def qa_contexts(show_kinds: set[str]) -> None:
    """Each paragraph of the QA sets as one chunk under its article's title: how many records of each kind a
    generator makes on prose it was not written for, and (`--show-kinds`) every one of the kinds named, to read."""
    import json

    from ownllm.synth.facts import fact_pairs
    from ownllm.synth.source import SourceChunk, SourceDocument

    for path, lang in QA_SETS:
        if not path.exists():
            continue
        pairs = []
        for article in json.loads(path.read_text(encoding="utf-8"))["data"]:
            title = article["title"].replace("_", " ")
            source = SourceDocument(title, title, title, lang)
            for index, paragraph in enumerate(article["paragraphs"]):
                chunk = SourceChunk(f"{title}#{index}", title, paragraph["context"], lang, title, f"paragraph {index}")
                pairs += fact_pairs(chunk, source)
        kinds = Counter(pair.meta.get("kind", "?") for pair in pairs)
        print(f"\n{path.name}: {len(pairs)} records")
        print("  by kind: " + ", ".join(f"{kind} {n}" for kind, n in kinds.most_common()))
        _show(pairs, show_kinds)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--home", type=Path, default=None, help="an ingested home with the sample company")
    parser.add_argument("--tenant", default="acme")
    parser.add_argument("--sample", type=int, default=20, help="real-document records printed to read")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--misses", type=int, default=0, help="sample-company facts no record asks, printed to read")
    parser.add_argument("--show-kinds", default="",
                        help="comma-separated record kinds (description,colour,options) whose every record on the "
                             "real documents and QA sets is printed to read")
    args = parser.parse_args()
    show_kinds = {kind for kind in args.show_kinds.split(",") if kind}
    sample_company_coverage(args.home, args.tenant, args.misses)
    real_documents(args.sample, args.seed, show_kinds)
    qa_contexts(show_kinds)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
