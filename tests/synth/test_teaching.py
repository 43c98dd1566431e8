"""Teacher-written data: natural questions in several phrasings, multi-hop, unanswerable, entity passages and
the judge. A scripted teacher (it answers each kind of request from the text it is given) tests the plumbing
on the sample company's corpus; the real Qwen2.5-Coder-0.5B, under the JSON grammar, tests the teacher path."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from ownllm.chat.policy import NOT_FOUND_ANSWERS
from ownllm.inference.pool import shared_pool
from ownllm.models.registry import resolve_model, serving_spec
from ownllm.synth.config import SynthConfig
from ownllm.synth.dataset import dataset_records, record_generator
from ownllm.synth.filters import FilterReport, filter_pairs
from ownllm.synth.records import GENERATORS, QAPair
from ownllm.synth.run import synthesize
from ownllm.synth.source import SourceChunk, SourceDocument, load_corpus
from ownllm.synth.teacher import LocalTeacher
from ownllm.synth.teaching import entity_passages, judge_sample, linked_chunks, natural_pairs, unanswerable_pair


class ScriptedTeacher:
    """Replies by request kind, from the text in the prompt; every other answer is invented, to be filtered."""

    name = "scripted"

    def __init__(self) -> None:
        self.calls: list[str] = []

    def complete(self, messages: list[dict[str, Any]], schema: dict[str, Any] | None = None) -> str:
        prompt = messages[-1]["content"]
        assert schema is not None, "teacher-written data is always asked for under a schema"
        keys = set(schema["properties"])
        self.calls.append(",".join(sorted(keys)))
        body = prompt.rsplit(":\n", 1)[-1] if ":\n" in prompt else prompt.rsplit("\n\n", 1)[-1]  # the text asked about
        words = re.findall(r"[A-Za-z]{4,}|[\u4e00-\u9fff]{2,4}", body) or ["nothing"]
        if keys == {"facts"}:
            real = {"answer": words[0], "questions": [f"What comes first, {i}?" for i in range(3)]}
            fake = {"answer": "Zorblax the Third", "questions": ["Who rules Mars?", "Who is Mars's king?"]}
            return json.dumps({"facts": [real, fake]})
        if keys == {"question", "answer"}:
            return json.dumps({"question": "Which word links both passages?", "answer": words[-1]})
        if keys == {"question"}:
            return json.dumps({"question": "What colour is the office cat called Zorblax?"})
        if keys == {"entities"}:
            return json.dumps({"entities": [words[0], words[1] if len(words) > 1 else words[0], "Atlantis"]})
        if keys == {"passage"}:
            said = " ".join(words[:4])
            return json.dumps({"passage": f"{said} costs 999,999 USD." if "999" in prompt else f"{said}."})
        if keys == {"text_answers_question", "answer_matches_text"}:
            invented = "Zorblax" in prompt
            return json.dumps({"text_answers_question": not invented, "answer_matches_text": not invented})
        raise AssertionError(f"unexpected request {keys}")


CHUNK = SourceChunk("c1", "d1", "The Aurel 300 (VM-A300) sells for 2,890 USD. Its battery holds 540 Wh.", "en", None,
                    "page 1")
DOCUMENT = SourceDocument("d1", "brochure.pdf", "Brochure 2026", "en", [CHUNK])


def test_natural_questions_come_in_several_phrasings_and_invented_answers_are_filtered() -> None:
    teacher = ScriptedTeacher()
    pairs = natural_pairs(teacher, CHUNK, DOCUMENT, n=2)
    assert len(pairs) == 5 and {p.generator for p in pairs} == {"natural"}
    assert len({p.meta["fact"] for p in pairs}) == 2 and {p.meta["phrasing"] for p in pairs} == {0, 1, 2}
    report, removed = FilterReport(), []
    kept = filter_pairs(pairs, {"c1": CHUNK.text}, report, set(), removed)
    assert [p.answer for p in kept] == ["Aurel"] * 3 and report.removed["ungrounded"] == 2 and len(removed) == 2


def test_a_natural_answer_that_copies_the_whole_sentence_is_removed() -> None:
    """A small teacher often answers with the sentence it read; only the few words that answer are kept."""
    text = ("The IT helpdesk is reachable at extension 4357 from 07:00 to 19:00 on working days. "
            "售后热线的服务时间为每天上午九点到晚上九点，节假日照常服务，电话为400-820-1234。")
    whole = "The IT helpdesk is reachable at extension 4357 from 07:00 to 19:00 on working days."
    zh_whole = "售后热线的服务时间为每天上午九点到晚上九点，节假日照常服务"
    pairs = [QAPair("What is the IT helpdesk's extension?", whole, "en", "d", "c", "natural"),
             QAPair("What is the IT helpdesk's extension number?", "extension 4357", "en", "d", "c", "natural"),
             QAPair("售后热线什么时候服务？", zh_whole, "zh", "d", "c", "natural"),
             QAPair("售后热线的服务时间是？", "每天上午九点到晚上九点", "zh", "d", "c", "natural"),
             QAPair("In the text, what fills the blank?", whole, "en", "d", "c", "facts")]  # not a natural pair
    report = FilterReport()
    kept = filter_pairs(pairs, {"c": text}, report, set())
    assert [p.answer for p in kept] == ["extension 4357", "每天上午九点到晚上九点", whole]
    assert report.removed == {"sentence_answer": 2}


def test_unanswerable_questions_are_taught_as_declines_in_the_question_language() -> None:
    pair = unanswerable_pair(ScriptedTeacher(), CHUNK, DOCUMENT)
    assert pair is not None and pair.answer == NOT_FOUND_ANSWERS["en"] and pair.meta["unanswerable"]
    assert filter_pairs([pair], {"c1": CHUNK.text}, FilterReport(), set()) == [pair]  # not "ungrounded"


def test_entity_passages_keep_only_what_the_text_says() -> None:
    records = entity_passages(ScriptedTeacher(), CHUNK, DOCUMENT)
    assert records and all("Atlantis" not in r["text"] for r in records)  # an entity not in the text is dropped
    assert all(r["metadata"]["generator"] == "entigraph" for r in records)
    invented = SourceChunk("c2", "d1", "The Keel 40 costs 620 USD. Price list 999 items.", "en", None, "page 2")
    assert not any("999,999" in r["text"] for r in entity_passages(ScriptedTeacher(), invented, DOCUMENT))


def test_the_judge_measures_kept_and_removed_pairs_and_drops_bad_kept_ones() -> None:
    teacher = ScriptedTeacher()
    pairs = natural_pairs(teacher, CHUNK, DOCUMENT, n=2)
    bad_but_kept = pairs[-1]
    kept, report = judge_sample(teacher, [*pairs[:3], bad_but_kept], [pairs[3]], {"c1": CHUNK.text}, sample=10)
    assert report.kept_judged == 4 and report.kept_good == 3 and report.dropped == 1
    assert report.removed_judged == 1 and report.removed_good == 0
    assert bad_but_kept not in kept and report.by_generator["natural"]["kept_judged"] == 4


def test_a_synth_run_with_every_teacher_generator_stores_its_counts(acme) -> None:
    source = load_corpus(acme.home, acme.tenant_id)
    links = linked_chunks(source.documents, 5)
    assert links and all(a.id != b.id for a, b, _ in links)
    document_of = {c.id: d.id for d in source.documents for c in d.chunks}
    assert all(document_of[a.id] != document_of[b.id] for a, b, _ in links)  # two documents each

    config = SynthConfig(natural=True, natural_per_chunk=2, multihop=4, unanswerable=3, entigraph=2, judge_sample=4,
                         raft=False, replay=False, max_chunks=12, heldout_fraction=0.3)
    made = synthesize(acme.home, acme.tenant_id, config, teacher=ScriptedTeacher())
    generated = made.counts["generated"]
    assert generated["natural"] >= 12 * 2 and generated["unanswerable"] == 3 and generated["multihop"] >= 1
    assert "entigraph" in generated
    judge = made.counts["judge"]
    assert judge["kept_judged"] == 4 and judge["removed_judged"] == 4
    # the removed sample mixes invented answers (judged bad) and duplicates of good questions (judged good)
    assert judge["removed_good"] == sum(g["removed_good"] for g in judge["by_generator"].values()) < 4
    records = dataset_records(made, "sft")
    assert not any("Zorblax the Third" in r["messages"][-1]["content"] for r in records)
    heldout = dataset_records(made, "eval_heldout")
    assert not any(r.get("generator") == "unanswerable" and not r.get("unanswerable") for r in heldout)
    # a recipe's `repeat` accepts only names in GENERATORS: every generator's name must be there
    written = {record_generator(r) for kind in ("sft", "cpt") for r in dataset_records(made, kind)}
    assert written >= {"natural", "multihop", "unanswerable", "entigraph"} and written <= GENERATORS


@pytest.mark.parametrize("generator", ["natural", "multihop", "unanswerable", "entigraph", "judge_sample"])
def test_any_teacher_generator_alone_gets_the_tenants_teacher(acme, monkeypatch, generator: str) -> None:
    """`--set natural=true` without `--teacher` once made no teacher, so the run silently generated nothing."""
    made: list[str] = []

    def make_teacher(home, pool, tenant_id, config):  # stands in for synth.run's
        made.append(tenant_id)
        return ScriptedTeacher()

    monkeypatch.setattr("ownllm.synth.run.make_teacher", make_teacher)
    value = True if generator == "natural" else 3
    config = SynthConfig(**{generator: value}, facts=False, raft=False, replay=False, grounded=False,
                         passages=False, max_chunks=12, heldout_fraction=0.3)
    assert config.needs_teacher and not SynthConfig().needs_teacher
    dataset = synthesize(acme.home, acme.tenant_id, config)
    assert made == [acme.tenant_id]
    if generator == "natural":
        assert dataset.counts["generated"]["natural"] >= 12


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_the_real_reader_writes_grounded_natural_questions_under_the_grammar(acme, lang: str) -> None:
    source = load_corpus(acme.home, acme.tenant_id)
    document, chunk = next((d, c) for d in source.documents for c in d.chunks
                           if c.lang == lang and len(c.text) > (300 if lang == "en" else 100) and "|" not in c.text)
    entry = resolve_model(acme.home, None, "qwen2.5-coder-0.5b-instruct")
    teacher = LocalTeacher(shared_pool(acme.home.settings.engine_memory_mb).handle(
        serving_spec(entry, acme.home.settings)), entry.id)
    pairs = natural_pairs(teacher, chunk, document, n=2)
    assert len(pairs) >= 2, "the teacher's reply did not give facts with phrasings"
    kept = filter_pairs(pairs, {chunk.id: chunk.text}, FilterReport(), set())
    assert kept, f"no grounded pair among {[(p.question, p.answer) for p in pairs]}"
    assert len({p.question for p in kept}) == len(kept)
