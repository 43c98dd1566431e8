"""The sample company is big enough, bilingual, consistent, and deterministic."""

from __future__ import annotations

import hashlib
import json
import re
from collections import Counter
from pathlib import Path

from ownllm.ingest.chunk import layout
from ownllm.ingest.detect import detect_type
from ownllm.ingest.parsers import SUPPORTED_TYPES, parse
from ownllm.retrieval.rag import specific_terms
from ownllm.samples.company import PRODUCTS
from ownllm.samples.generate import SampleCompany, generate


def _squash(text: str) -> str:
    return re.sub(r"\s+", "", text)


def test_dropbox_has_enough_documents_in_every_format(sample_company: SampleCompany) -> None:
    manifest = sample_company.manifest()
    files = sorted(p.name for p in sample_company.dropbox.iterdir())
    assert len(files) == len(manifest) >= 80
    formats = Counter(entry["format"] for entry in manifest)
    assert set(formats) >= {"pdf", "docx", "pptx", "xlsx", "html", "markdown", "text", "png", "m4a", "rtf", "eml",
                            "csv"}
    chinese = [entry for entry in manifest if entry["lang"] == "zh"]
    assert len(chinese) * 3 >= len(manifest)


def test_facts_are_numerous_and_tied_to_their_source(sample_company: SampleCompany) -> None:
    facts = sample_company.facts()
    assert len(facts) >= 600
    assert len({f["id"] for f in facts}) == len(facts)
    names = {p.name for p in sample_company.dropbox.iterdir()}
    for fact in facts:
        assert fact["source"] in names
        assert fact["answer"] in fact["evidence"]
        assert fact["location"]["unit"] in ("page", "slide", "sheet", "section", "time")
    assert sum(f["lang"] == "zh" for f in facts) * 3 >= len(facts)
    assert len({(f["question"], f["source"]) for f in facts}) == len(facts)  # no question asked twice of a file


def test_evaluation_questions_include_unanswerable_ones_that_name_nothing_real(sample_company: SampleCompany) -> None:
    questions = [json.loads(line) for line in sample_company.questions_path.read_text(encoding="utf-8").splitlines()]
    unanswerable = [q for q in questions if q.get("unanswerable")]
    assert len(questions) - len(unanswerable) == len(sample_company.facts())
    assert len(unanswerable) >= 50 and sum(q["lang"] == "zh" for q in unanswerable) * 2 >= len(unanswerable)
    corpus = "\n".join(f["evidence"] for f in sample_company.facts()).replace(",", "").lower()
    for item in unanswerable:  # a model or part code they name is in no document (so no passage can answer them)
        for term in (t for t in specific_terms(item["question"]) if re.search("[a-z]", t)):
            assert not re.search(rf"(?<![0-9a-z]){re.escape(term)}(?![0-9a-z])", corpus), (item["question"], term)


def test_every_answer_is_parsed_from_its_source_at_the_stated_place(sample_company: SampleCompany) -> None:
    """Parse each supported file with the real parsers: the answer is where facts.jsonl says."""
    checked = 0
    documents: dict = {}
    for fact in sample_company.facts():
        path = sample_company.dropbox / fact["source"]
        data = path.read_bytes()
        kind = detect_type(data, path.name).type
        assert kind in SUPPORTED_TYPES, fact["source"]
        document = documents.get(path.name) or documents.setdefault(path.name, parse(data, kind, path.name))
        number = fact["location"]["number"]
        units = [u for u in document.units if u.number == number] if number else document.units
        text = "".join(block.text for unit in units for block in unit.blocks)
        assert _squash(fact["answer"]) in _squash(text), (fact["source"], fact["answer"], number)
        checked += 1
    assert checked == len(sample_company.facts())


def test_prices_agree_between_brochure_and_price_list(sample_company: SampleCompany) -> None:
    brochure = sample_company.dropbox / "brochure_2026.pdf"
    text = _squash(layout(parse(brochure.read_bytes(), "pdf", brochure.name))[0])
    from openpyxl import load_workbook

    sheet = load_workbook(sample_company.dropbox / "price_list_2026.xlsx")["Vehicles"]
    prices = {row[0]: row[3] for row in sheet.iter_rows(min_row=2, values_only=True)}
    for product in PRODUCTS:
        assert prices[product.code] == product.price_usd
        assert _squash(f"{product.code}) is our") in text
        assert _squash(product.price_usd) in text


def test_generation_is_byte_for_byte_deterministic(tmp_path: Path, sample_company: SampleCompany) -> None:
    again = generate(tmp_path / "again")

    def digests(root: Path) -> dict[str, str]:
        return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(root.iterdir())}

    assert digests(again.dropbox) == digests(sample_company.dropbox)
    assert again.facts_path.read_bytes() == sample_company.facts_path.read_bytes()
