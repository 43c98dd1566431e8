"""Write the sample company's drop-box and its ground truth (`facts.jsonl`, `manifest.json`).

    python -m ownllm.samples.generate OUT_DIR      (or: ownllm sample OUT_DIR)

`OUT_DIR/dropbox/` holds the files a company would upload; `OUT_DIR/facts.jsonl` holds
one question/answer pair per line with its source file and where in it the answer sits;
`OUT_DIR/questions.jsonl` is what `ownllm eval --questions … --split` asks: every fact's natural
question plus the questions no document answers (`"unanswerable": true`).
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from pathlib import Path

from ownllm.samples.builder import DocSpec
from ownllm.samples.documents_en import english_documents
from ownllm.samples.documents_more import UNANSWERABLE, more_documents
from ownllm.samples.documents_zh import chinese_documents
from ownllm.samples.render import RENDERERS
from ownllm.samples.render_more import MORE_RENDERERS

ALL_RENDERERS = {**RENDERERS, **MORE_RENDERERS}


@dataclass
class SampleCompany:
    root: Path

    @property
    def dropbox(self) -> Path:
        return self.root / "dropbox"

    @property
    def facts_path(self) -> Path:
        return self.root / "facts.jsonl"

    def facts(self) -> list[dict]:
        return [json.loads(line) for line in self.facts_path.read_text(encoding="utf-8").splitlines()]

    @property
    def questions_path(self) -> Path:
        return self.root / "questions.jsonl"

    def manifest(self) -> list[dict]:
        return json.loads((self.root / "manifest.json").read_text(encoding="utf-8"))


def all_documents() -> list[DocSpec]:
    return english_documents() + chinese_documents() + more_documents()


def generate(root: Path) -> SampleCompany:
    root = Path(root)
    dropbox = root / "dropbox"
    dropbox.mkdir(parents=True, exist_ok=True)
    facts, manifest = [], []
    for spec in all_documents():
        ALL_RENDERERS[spec.fmt](spec, dropbox / spec.name)
        manifest.append({"file": spec.name, "format": spec.fmt, "lang": spec.lang, "title": spec.title,
                         "units": len(spec.units), "facts": len(spec.facts)})
        for fact in spec.facts:
            facts.append({
                "id": f"F{len(facts) + 1:03d}", "question": fact.question, "answer": fact.answer,
                "lang": fact.lang, "source": fact.source, "format": spec.fmt,
                "location": {"unit": fact.unit, "number": fact.unit_number, "heading": fact.heading},
                "evidence": fact.evidence,
            })
    (root / "facts.jsonl").write_text(
        "".join(json.dumps(f, ensure_ascii=False) + "\n" for f in facts), encoding="utf-8"
    )
    questions = [{"question": f["question"], "answer": f["answer"], "source": f["source"], "lang": f["lang"]}
                 for f in facts]
    questions += [{"question": question, "lang": lang, "unanswerable": True} for question, lang in UNANSWERABLE]
    (root / "questions.jsonl").write_text(
        "".join(json.dumps(q, ensure_ascii=False) + "\n" for q in questions), encoding="utf-8")
    (root / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False, indent=1), encoding="utf-8")
    return SampleCompany(root)


def main(argv: list[str] | None = None) -> int:
    args = argv if argv is not None else sys.argv[1:]
    if len(args) != 1:
        print("usage: python -m ownllm.samples.generate OUT_DIR", file=sys.stderr)
        return 2
    company = generate(Path(args[0]))
    print(f"wrote {len(company.manifest())} documents and {len(company.facts())} facts to {company.root}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
