"""Synthetic data on the ingested sample company: grounded, split by document, in the chat format."""

from __future__ import annotations

import json
import re
import threading
from collections import Counter
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest

from ownllm.chat.policy import ANSWER_IN_CHINESE
from ownllm.errors import InvalidInput
from ownllm.evaluate.general import GENERIC_PROMPTS
from ownllm.retrieval.rag import PASSAGE_PROMPTS, retrieve_for_chat
from ownllm.synth.config import SynthConfig
from ownllm.synth.dataset import dataset_records, get_dataset, record_generator
from ownllm.synth.facts import fact_pairs, find_facts
from ownllm.synth.filters import FilterReport, filter_pairs, grounded
from ownllm.synth.grounded import GroundedBuilder
from ownllm.synth.raft import TrainingChunks
from ownllm.synth.records import GENERATORS, QAPair
from ownllm.synth.replay import REPLAY_PROMPTS
from ownllm.synth.run import synthesize
from ownllm.synth.source import SourceChunk, SourceDocument, load_corpus
from ownllm.synth.split import split_documents
from ownllm.synth.subjects import shared_headings, without_document_type
from ownllm.tune.plan import check_grounded_form


@pytest.fixture(scope="module")
def dataset(acme):
    return synthesize(acme.home, acme.tenant_id, SynthConfig(seed=0, replay_prompts=3))


def test_facts_are_verbatim_spans_with_natural_questions():
    document = SourceDocument("d1", "brochure.pdf", "Brochure", "en")
    chunk = SourceChunk("c1", "d1", "It sells for 2,890 USD and launched on 18 March 2026. Its battery gives a "
                        "range of up to 95 km.", "en", "Aurel 300 (VM-A300)", "page 1")
    pairs = fact_pairs(chunk, document)
    by_answer = {}
    for pair in pairs:
        assert pair.answer in chunk.text
        by_answer.setdefault(pair.answer, []).append(pair.question)
    assert "How much does Aurel 300 (VM-A300) cost?" in by_answer["2,890 USD"]
    assert "When was Aurel 300 (VM-A300) launched?" in by_answer["18 March 2026"]
    assert "What is the range of Aurel 300 (VM-A300)?" in by_answer["95 km"]
    zh = SourceChunk("c2", "d2", "中国市场售价为19,800 元，最大续航95 km。", "zh", "奥瑞尔 300", "page 1")
    questions = {p.question: p.answer for p in fact_pairs(zh, SourceDocument("d2", "手册.pdf", "手册", "zh"))}
    assert questions["奥瑞尔 300的中国市场售价是多少？"] == "19,800 元"
    assert [f.kind for f in find_facts("Call VM-A300 support within 14 days; 3年保修")] == ["code", "duration",
                                                                                         "duration"]
    # contact facts and opening hours, in both languages; year ranges and versions are not phone numbers
    hours = "Open from 07:30 to 15:30. Call +45 33 555 0129 or 400-820-6617; 热线 0512-6655-0101，9:00至17:00。"
    assert [(f.kind, f.text) for f in find_facts(hours)] == [
        ("time", "07:30 to 15:30"), ("phone", "+45 33 555 0129"), ("phone", "400-820-6617"),
        ("phone", "0512-6655-0101"), ("time", "9:00至17:00")]
    # a period is one fact, a change is two (the old value and the new)
    assert [f.text for f in find_facts("Valid between 1 March 2026 and 30 April 2026.")] == [
        "1 March 2026 and 30 April 2026"]
    assert [f.text for f in find_facts("The helpdesk moved from 07:00 to 08:00.")] == ["07:00", "08:00"]
    assert [f.text for f in find_facts("营业时间从9:00到18:00。")] == ["9:00到18:00"]
    assert [f.text for f in find_facts("The deadline was extended from 30 June 2026 to 31 July 2026.")] == [
        "30 June 2026", "31 July 2026"]
    assert [f.text for f in find_facts("Buses leave at 08:00 - 09:00 - 10:00.")] == ["08:00", "09:00", "10:00"]
    not_contacts = "Plan 2026-2027, firmware 4.2.1, ticket 123-456, temps +20 30 40, INV 0042-2024-1234, 16:9"
    assert not any(f.kind in ("phone", "time") for f in find_facts(not_contacts))
    assert not any(f.kind == "time" for f in find_facts("ratio 1:50, John 3:16, won 3:10, host 10.0.0.1:22, v1:23"))
    assert ("quantity", "12%") in [(f.kind, f.text) for f in find_facts("Q3:12% more returns")]
    shop = SourceChunk("c5", "d5", "营业时间为9:00至17:00。", "zh", "上海门店", "page 1")
    assert all("的00" not in p.question for p in fact_pairs(shop, SourceDocument("d5", "店.md", "店", "zh")))
    contact = SourceChunk("c3", "d3", "Call +45 33 555 0129 to book a repair.", "en", "Copenhagen service centre",
                          "page 1")
    assert "What is the phone number of Copenhagen service centre?" in {
        p.question for p in fact_pairs(contact, SourceDocument("d3", "c.pdf", "C", "en"))}
    # the subject is the product, not its datasheet; a qualifier alone ("the first") is no attribute
    sheet = SourceChunk("c6", "d6", "The bike weighs 31.5 kg. Parking is free for the first 3 months.", "en",
                        "Cinder Cargo (VM-C120) technical datasheet", "page 1")
    asked = {p.question for p in fact_pairs(sheet, SourceDocument("d6", "s.docx", "S", "en"))}
    assert "How heavy is Cinder Cargo (VM-C120)?" in asked and not any("the first of" in q for q in asked)
    zh_sheet = SourceChunk("c7", "d7", "整车重量为22.9 kg。", "zh", "奥瑞尔 Pro 500(VM-A500）技术参数表", "page 1")
    assert "奥瑞尔 Pro 500(VM-A500）的整车重量是多少？" in {
        p.question for p in fact_pairs(zh_sheet, SourceDocument("d7", "参数.docx", "参数", "zh"))}
    assert without_document_type("Datasheet") == "Datasheet" and without_document_type("说明书") == "说明书"
    load = SourceChunk("c8", "d8", "Its maximum load is 130 kg.", "en", "Aurel Pro 500 (VM-A500)", "page 1")
    asked = {p.question for p in fact_pairs(load, SourceDocument("d8", "l.docx", "L", "en"))}
    assert "What is the load of Aurel Pro 500 (VM-A500)?" in asked and not any("heavy" in q for q in asked)
    # Chinese asks in place, so a clause with verbs still makes a grammatical question; a year is a date
    charge = SourceChunk("c9", "d9", "使用标准充电器充满电需要3.5小时。2025年该店共售出1,860辆。", "zh", "基尔 40",
                         "page 1")
    zh_asked = {p.answer: p.question for p in fact_pairs(charge, SourceDocument("d9", "参数.docx", "参数", "zh"))
                if "空白" not in p.question}
    assert zh_asked["3.5小时"] == "关于基尔 40，使用标准充电器充满电需要多长时间？"
    assert zh_asked["1,860辆"] == "关于基尔 40，2025年该店共售出多少辆？"
    assert [(f.kind, f.text) for f in find_facts("自2021年起，2023年度，2021年底")] == [
        ("date", "2021年"), ("date", "2023年度"), ("date", "2021年底")]
    # what a reviewer found on sentences of other documents: no "why" (为什么), no doubled 的, no clause cut at
    # a thousands comma, English quoted in a Chinese chunk asked in English, generic headings kept whole
    probes = SourceChunk("c10", "d10", "VM-A500的替代型号为VM-B200。基尔 40的重量为22 kg。自2021年以来共售出1,860辆。"
                         "The bike weighs 22 kg.", "zh", "基尔 40", "page 1")
    zh_asked = {p.question for p in fact_pairs(probes, SourceDocument("d10", "x.docx", "X", "zh"))
                if "空白" not in p.question}
    assert "VM-A500的替代型号是什么？" in zh_asked and "关于基尔 40，自2021年以来共售出多少辆？" in zh_asked
    assert "基尔 40的重量为多少？" in zh_asked and not any("的的" in q or "为什么" in q for q in zh_asked)
    assert {p.lang for p in fact_pairs(probes, SourceDocument("d10", "x.docx", "X", "zh"))
            if p.question == "How heavy is 基尔 40?"} == {"en"}
    assert without_document_type("Employee Manual") == "Employee Manual"
    assert without_document_type("奥瑞尔 Pro 500 —— 技术参数表") == "奥瑞尔 Pro 500"
    verbs = SourceChunk("c11", "d11", "Staff may work remotely for 2 days. The pay period is 2 weeks. The motor "
                        "assists up to 25 km/h. The cargo box can carry up to 80 kg.", "en", "HR", "page 1")
    en_asked = {p.question for p in fact_pairs(verbs, SourceDocument("d11", "h.md", "H", "en"))
                if "blank" not in p.question}
    assert "How long is the pay period of HR?" in en_asked
    assert not any(" may " in q or "heavy" in q or "top speed" in q for q in en_asked)
    helpdesk = SourceChunk("c4", "d4", "Note: the helpdesk is open from 07:00 to 19:00 on working days.", "en",
                           "IT helpdesk", "page 1")
    blanks = {p.answer: p.question for p in fact_pairs(helpdesk, SourceDocument("d4", "h.eml", "H", "en"))}
    assert blanks["07:00 to 19:00"] == ('In "IT helpdesk", what fills the blank: '
                                        '"the helpdesk is open from ___ on working days"?')


def test_table_cells_are_asked_by_row_and_column_not_by_document_name():
    text = ("WORKSHOP RATES 2026\n| Service | Time | Price |\n|---|---|---|\n"
            "| Brake pad replacement | 30 min | 45 EUR |\n|  | rush | 60 EUR |\n| Wheel truing | 40 min | 35 EUR |\n"
            "Parts are charged from 5 EUR.")
    chunk = SourceChunk("c1", "d1", text, "en", "Workshop rates", "page 1")
    pairs = fact_pairs(chunk, SourceDocument("d1", "rates_scan.png", "rates_scan", "en"))
    asked = {(p.question, p.answer) for p in pairs}
    assert ('What is the price of Wheel truing in "Workshop rates"?', "35 EUR") in asked
    assert ('What is the time of Wheel truing in "Workshop rates"?', "40 min") in asked
    assert ('What is the price of Brake pad replacement in "Workshop rates"?', "60 EUR") in asked  # merged cell
    assert not any(answer == "rush" for _, answer in asked)  # not a fact: no number, no code
    assert not any(answer == "45 EUR" and "Workshop rates cost" in question for question, answer in asked)
    assert ("How much does Wheel truing cost?", "35 EUR") in asked  # a price is asked for by its row
    assert ("How much does Workshop rates cost?", "5 EUR") in asked  # the sentence after the table
    zh = SourceChunk("c2", "d2", "| 型号 | 售价 |\n|---|---|\n| 奥瑞尔 300 | 19,800 元 |", "zh", "价格表", "sheet 1")
    questions = {p.question: p.answer for p in fact_pairs(zh, SourceDocument("d2", "价格表.xlsx", "价格表", "zh"))}
    assert questions["价格表中，奥瑞尔 300的售价是多少？"] == "19,800 元"


def test_filters_remove_ungrounded_duplicate_and_wrong_language_pairs():
    text = {"c": "The warranty lasts 5 years for every frame."}
    pairs = [
        QAPair("How long is the frame warranty?", "5 years", "en", "d", "c", "teacher"),
        QAPair("How long is the frame warranty?", "5 years", "en", "d", "c", "teacher"),  # duplicate
        QAPair("Who founded the company in 1820?", "Napoleon", "en", "d", "c", "teacher"),  # invented
        QAPair("这款车架的保修期是多久？", "5 years", "en", "d", "c", "teacher"),  # language mismatch
    ]
    report = FilterReport()
    kept = filter_pairs(pairs, text, report, set())
    assert [p.question for p in kept] == ["How long is the frame warranty?"]
    assert report.as_dict() == {"kept": 1, "removed": {"duplicate_question": 1, "ungrounded": 1, "language": 1}}
    assert grounded("保修期为3年", "整车保修期为3年。") and not grounded("10年", "整车保修期为3年。")


def test_split_is_by_document_stable_and_covers_both_languages(acme):
    documents = load_corpus(acme.home, acme.tenant_id).documents
    first = split_documents(documents, 0.2, seed=0)
    assert first == split_documents(documents, 0.2, seed=0)
    assert split_documents(documents, 0.2, seed=1).heldout != first.heldout
    langs = Counter(d.lang for d in documents if d.id in first.heldout)
    assert langs["en"] >= 1 and langs["zh"] >= 1
    assert set(first.train).isdisjoint(first.heldout)
    assert len(first.train) + len(first.heldout) == len(documents)


def test_dataset_never_trains_on_heldout_documents(acme, dataset):
    heldout = set(dataset.split["heldout_document_ids"])
    assert heldout and dataset.split["heldout_documents"]
    for kind in ("sft", "raft", "cpt", "eval_train"):
        records = dataset_records(dataset, kind)
        assert records, kind
        for record in records:
            owner = record.get("metadata", record).get("document_id")
            assert owner not in heldout, (kind, record)
    questions = dataset_records(dataset, "eval_heldout")
    assert questions and all(q["document_id"] in heldout for q in questions)
    assert {q["lang"] for q in questions} >= {"en", "zh"}


def test_dataset_records_are_grounded_chat_examples_without_duplicates(acme, dataset):
    chunks = {c.id: c.text for c in load_corpus(acme.home, acme.tenant_id).chunks()}
    sft = dataset_records(dataset, "sft")
    questions = [r["messages"][0]["content"] for r in sft if r["metadata"]["generator"] == "facts"]
    assert len(questions) == len(set(questions)) >= 50
    replayed = [r for r in sft if r["metadata"]["generator"] == "replay"]
    assert len(replayed) == dataset.counts["replay"] == 3  # the base model's own answers, against forgetting
    assert all(r["messages"][1]["content"] for r in replayed)
    assert not set(GENERIC_PROMPTS) & set(REPLAY_PROMPTS)  # evaluation's general check is never trained on
    for record in sft:
        roles = [m["role"] for m in record["messages"]]
        assert roles == (["system", "user", "assistant"] if record["metadata"]["generator"] == "grounded"
                         else ["user", "assistant"])
        if record["metadata"]["generator"] == "facts":
            assert grounded(record["messages"][1]["content"], chunks[record["metadata"]["chunk_id"]])
    written = {record_generator(r) for kind in ("sft", "cpt", "raft") for r in dataset_records(dataset, kind)}
    assert written >= {"facts", "grounded", "replay", "continuation", "raft"} and written <= GENERATORS
    counts = dataset.counts
    assert counts["filters"]["kept"] == counts["eval_heldout"] + counts["eval_train"]
    assert sum(counts["filters"]["removed"].values()) + counts["filters"]["kept"] == sum(
        counts["generated"].values())
    assert get_dataset(acme.home, acme.tenant_id, dataset.id).id == dataset.id


def test_raft_records_hide_the_oracle_among_other_documents(acme, dataset):
    chunks = {c.id: c for c in load_corpus(acme.home, acme.tenant_id).chunks()}
    records = dataset_records(dataset, "raft")
    kept = [r for r in records if r["metadata"]["oracle_included"]]
    assert 0.6 <= len(kept) / len(records) <= 0.95  # p = 0.8
    for record in records[:40]:
        prompt = record["messages"][0]["content"]
        oracle = chunks[record["metadata"]["chunk_id"]]
        assert (oracle.text in prompt) == record["metadata"]["oracle_included"]
        assert prompt.count("\n[") + prompt.startswith("Documents:\n[") >= 3
        assert record["messages"][1]["content"].startswith('Quote: "')


def test_grounded_records_ask_training_questions_in_the_served_rag_prompt(acme, dataset):
    heldout_chunks = {c.id for c in load_corpus(acme.home, acme.tenant_id).chunks()
                      if c.document_id in set(dataset.split["heldout_document_ids"])}
    records = [r for r in dataset_records(dataset, "sft") if r["metadata"]["generator"] == "grounded"]
    facts = [r for r in dataset_records(dataset, "sft") if r["metadata"]["generator"] == "facts"]
    assert len(records) >= len(facts) // 2  # most questions' own chunk yields an answering sentence
    # the served prompt for one of these questions, built by the answer path's own retrieval
    question = records[0]["messages"][1]["content"].rsplit("\n\nQuestion: ", 1)[1]
    served, evidence = retrieve_for_chat(acme.home, acme.tenant_id, [{"role": "user", "content": question}], None)
    assert evidence and [m["role"] for m in served] == ["system", "user"]
    layout = re.compile(r"Context:\n(?:- [^\n]+\n)+\nQuestion: .+", re.DOTALL)
    for record in records:
        system, user, assistant = (m["content"] for m in record["messages"])
        assert system == served[0]["content"]
        assert layout.fullmatch(user) and layout.fullmatch(served[1]["content"])
        context = user.split("\n\nQuestion: ")[0]
        assert assistant.lower() in context.lower()  # the answer is in the evidence shown
        shown = set(record["metadata"]["evidence_chunk_ids"])
        assert shown and not shown & heldout_chunks  # held-out documents are never shown, not even as distractors


def test_grounded_records_take_the_prompt_form_of_the_base_they_will_tune():
    """A passage reader (Qwen) is trained on numbered whole passages and the decline rule, as it is served."""
    chunks = [SourceChunk("c1", "d1", "Veltrano Care covers the frame for 10 years. Batteries are covered for 2 "
                          "years.", "en", "Warranty", "page 1"),
              SourceChunk("c2", "d2", "退货须在收货后45天内申请。退款在7个工作日内退回。", "zh", "退货", "page 1")]
    titles = {"d1": "Warranty policy", "d2": "退货政策"}
    english = QAPair("How long are batteries covered?", "2 years", "en", "d1", "c1", "facts")
    chinese = QAPair("收货后多少天内可以退货？", "45天", "zh", "d2", "c2", "facts")
    passages = GroundedBuilder(TrainingChunks(chunks), passages=True, titles=titles)
    system, user, assistant = (m["content"] for m in passages.record(english)["messages"])
    assert system == PASSAGE_PROMPTS["en"] and assistant == "2 years"
    assert user.startswith("Documents:\n[1] ") and "Warranty policy" in user
    assert user.endswith("Question: How long are batteries covered?") and "covered for 2 years" in user
    system, user, _ = (m["content"] for m in passages.record(chinese)["messages"])
    assert system == f"{PASSAGE_PROMPTS['zh']}\n{ANSWER_IN_CHINESE}"
    assert user.startswith("文档:\n[") and user.endswith("问题: 收货后多少天内可以退货？")
    sentences = GroundedBuilder(TrainingChunks(chunks), titles=titles).record(english)["messages"]
    assert sentences[1]["content"].startswith("Context:\n- ")
    # tuning a base on the other form is refused before any job exists, naming the way out
    with pytest.raises(InvalidInput, match="grounded_passages=true"):
        check_grounded_form("ds_1", {"grounded": True, "grounded_passages": False}, "qwen2.5-coder-0.5b-instruct")
    check_grounded_form("ds_1", {"grounded": True, "grounded_passages": False}, "smollm2-135m-instruct")


def test_the_chunks_a_question_is_hidden_among_do_not_depend_on_the_ids_a_home_drew():
    """The same files ingested into two homes get other chunk ids; ties in shared terms must fall the same way
    in both, or the two homes build different grounded and RAFT records from the same company."""
    texts = ["Opening hours are 09:00 to 17:30.", "The workshop is open on Saturdays.", "Opening on Sundays: no.",
             "Our hours change in August.", "Returns are accepted within 45 days."]
    oracle_text = "The service centre in Utrecht has opening hours for walk-ins."

    def hidden_among(ids: list[str]) -> list[str]:
        chunks = [SourceChunk(chunk_id, f"d{n}", text, "en", None, "page 1")
                  for n, (chunk_id, text) in enumerate(zip(ids, texts, strict=True))]
        oracle = SourceChunk("oracle", "d9", oracle_text, "en", None, "page 1")
        return [c.text for c in TrainingChunks([*chunks, oracle]).nearest("What are the opening hours?", oracle, 3,
                                                                           other_documents=False)]

    first, second = hidden_among(["a1", "b2", "c3", "d4", "e5"]), hidden_among(["z9", "y8", "x7", "w6", "v5"])
    assert first == second and first[0] == texts[0]  # the most shared terms first, then ties in corpus order


def test_documents_sharing_a_file_name_are_ordered_and_split_the_same_in_every_home(tmp_path):  # type: ignore[no-untyped-def]
    """Two folders' README.md are two documents of one name; which comes first, and which is held out, must not
    follow the ids (or the ingest order) of the home they landed in."""
    from ownllm.ingest.pipeline import ingest_paths
    from ownllm.store.tenants import create_tenant
    from tests.conftest import make_home

    folders = []
    for name, text in (("sales", "Sales handles quotes within 2 working days."),
                       ("support", "Support answers tickets within 4 hours.")):
        folder = tmp_path / name
        folder.mkdir()
        (folder / "README.md").write_text(f"# {name}\n\n{text}\n", encoding="utf-8")
        folders.append(folder)
    seen = []
    for label, order in (("first", folders), ("second", folders[::-1])):
        home = make_home(tmp_path / f"{label}-home")
        tenant = create_tenant(home, "acme")
        for folder in order:
            ingest_paths(home, tenant.id, [folder])
        documents = load_corpus(home, tenant.id).documents
        heldout = set(split_documents(documents, 0.5).heldout)
        seen.append([(d.name, d.chunks[0].text, d.id in heldout) for d in documents])
        home.close()
    assert [name for name, _, _ in seen[0]] == ["README.md", "README.md"]
    assert seen[0] == seen[1] and sum(held for _, _, held in seen[0]) == 1


class _Teacher(BaseHTTPRequestHandler):
    """A stand-in OpenAI-compatible teacher (a peer's server, not ours): one grounded pair, one invented."""

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        text = body["messages"][0]["content"]
        first_line = text.split("Text:\n", 1)[-1].split("文字：\n", 1)[-1].strip().splitlines()[0]
        reply = (json.dumps({"question": f"Which line opens the passage ({len(text)})?", "answer": first_line})
                 + "\n" + json.dumps({"question": "Who is the CEO of Mars Inc?", "answer": "Zorblax the Third"}))
        payload = json.dumps({"choices": [{"message": {"role": "assistant", "content": reply}}]}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, *args: object) -> None:
        pass


def test_teacher_endpoint_pairs_pass_through_the_grounding_filter(acme, monkeypatch):
    server = HTTPServer(("127.0.0.1", 0), _Teacher)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_port}/v1"
    # a loopback teacher is allowed only when the operator says so, twice (allow-list and private ranges)
    monkeypatch.setattr(acme.home.settings, "outbound_allow", [url])
    monkeypatch.setattr(acme.home.settings, "outbound_allow_private", True)
    try:
        config = SynthConfig(facts=False, teacher=True, raft=False, passages=False, max_chunks=6, replay=False,
                             teacher_url=url, teacher_model="peer")
        made = synthesize(acme.home, acme.tenant_id, config)
    finally:
        server.shutdown()
    assert made.counts["generated"] == {"teacher": 12}
    assert made.counts["filters"]["removed"]["ungrounded"] >= 6
    assert made.config["teacher_name"].startswith("peer@")
    answers = [r["messages"][1]["content"] for r in dataset_records(made, "sft")]
    assert answers and "Zorblax the Third" not in answers


def test_facts_without_a_shape_are_named_by_their_label_clause_or_role():
    """Values a price-or-date pattern cannot find: a labelled line, a Chinese attribute clause, a person named by
    role; and counted things, magnitudes, ratings, sizes, versions and e-mail addresses, which it now can."""
    project = SourceDocument("d1", "project_tandem.pptx", "Project Tandem", "en")
    slide = SourceChunk("c1", "d1", "Budget and plan\n\nKick-off: 1 September 2026\nBudget: 1.9 million EUR\n"
                        "To: [EMAIL]\nNote: the budget was approved by the board after a long discussion in May.\n"
                        "It is led by Hana Sorensen. Its account contact is Sanne de Vries.", "en", "Budget and plan",
                        "slide 2")
    asked = {(p.question, p.answer) for p in fact_pairs(slide, project)}
    assert ("What is the budget of Project Tandem?", "1.9 million EUR") in asked  # the document names the subject
    assert ("What is the budget of Budget and plan?", "1.9 million EUR") in asked  # and the slide's heading
    assert ('In "Project Tandem", what fills the blank: "Kick-off: ___"?', "1 September 2026") in asked
    assert not any(answer == "[EMAIL]" for _, answer in asked)  # a redacted value is no fact
    assert not any(q.startswith("What is the note") for q, _ in asked)  # a sentence after a colon is no label
    assert ("Who is Budget and plan led by?", "Hana Sorensen") in asked
    assert ("Who is the account contact of Budget and plan?", "Sanne de Vries") in asked
    # a place and a material are named by the words before them; the place runs to the end of its clause
    centre = SourceChunk("c5", "d5", "The shop opened in 2019 and is located at Keileweg 18, 3029 BS Rotterdam. "
                         "The frame is made of 6061 aluminium, and the office is located in the city centre.", "en",
                         "Harbour Bikes", "page 1")
    placed = {(p.question, p.answer) for p in fact_pairs(centre, SourceDocument("d5", "h.md", "H", "en"))}
    assert ("Where is Harbour Bikes located?", "Keileweg 18, 3029 BS Rotterdam") in placed
    assert ("What is the frame of Harbour Bikes made of?", "6061 aluminium") in placed
    assert not any(answer.startswith("the city") for _, answer in placed)  # no place named, only described
    odd = SourceChunk("c6", "d6", "The firm is based in Bosnia and Herzegovina. The payment is made from the company "
                      "account. The company was founded in 2017.", "en", "Harbour Bikes", "page 1")
    odd_asked = {(p.question, p.answer) for p in fact_pairs(odd, SourceDocument("d6", "h.md", "H", "en"))}
    assert ("Where is Harbour Bikes located?", "Bosnia and Herzegovina") in odd_asked  # "and" inside a name
    assert ("When was Harbour Bikes founded?", "2017") in odd_asked
    assert not any("made" in q for q, _ in odd_asked)  # "made from" an account is no material
    notice = SourceChunk("c4", "d4", "From: Veltrano Mobility\nCc: Hana Sorensen\nSent: 3 June 2026", "en",
                         "New IT helpdesk hours", "message")
    headers = {(p.question, p.answer) for p in fact_pairs(notice, SourceDocument("d4", "it.eml", "IT", "en"))}
    assert ("Who sent New IT helpdesk hours?", "Veltrano Mobility") in headers  # not "What is the from of …?"
    assert not any(answer == "Hana Sorensen" for _, answer in headers)  # a copy's address names no attribute
    zh_doc = SourceDocument("d2", "星河项目.pptx", "星河项目", "zh")
    zh = SourceChunk("c2", "d2", "预算：480万元\n团队规模：9人\n车架材料为镁合金，轮胎规格为8.5英寸，传动为单速。"
                     "骑迹车行位于苏州，自2021年起成为维川出行的合作经销商。项目负责人为马志强。", "zh", "预算与计划",
                     "slide 2")
    zh_asked = {(p.question, p.answer) for p in fact_pairs(zh, zh_doc)}
    assert ("星河项目的预算是多少？", "480万元") in zh_asked and ("星河项目的团队规模是多少？", "9人") in zh_asked
    assert ("预算与计划的车架材料是什么？", "镁合金") in zh_asked and ("预算与计划的传动是什么？", "单速") in zh_asked
    assert ("预算与计划的项目负责人是谁？", "马志强") in zh_asked
    assert not any("成" in q and "是什么" in q for q, _ in zh_asked if "空白" not in q)  # 成为 is "become"
    shapes = ("The centre employs 8 technicians and has 6 service bays. In 2025 the shop sold 390 vehicles. "
              "The budget is 14.5 million EUR; the electronics are rated IPX5, the tyres are 28 x 1.6 inch and the "
              "light gives 45 lux. Firmware 4.2.1 was released. Write to help@example.com. In 2025 this grew.")
    found = {(f.kind, f.text) for f in find_facts(shapes)}
    assert {("count", "8 technicians"), ("count", "6 service bays"), ("count", "390 vehicles"),
            ("money", "14.5 million EUR"), ("code", "IPX5"), ("quantity", "28 x 1.6 inch"), ("quantity", "45 lux"),
            ("version", "4.2.1"), ("email", "help@example.com")} <= found
    assert not any(text.endswith("this") for _, text in found)  # "2025 this" counts nothing
    assert {(f.kind, f.text) for f in find_facts("总投资2.3亿元，年产能12万辆，共有10名技师，投诉44起。")} >= {
        ("money", "2.3亿元"), ("quantity", "12万辆"), ("quantity", "10名技师"), ("quantity", "44起")}
    # a hyphen joining number and unit, and a year the words mark as a date
    assert {(f.kind, f.text) for f in find_facts("It has a 3.5-inch display, a 5-year warranty and has been a "
                                                 "partner since 2020; figure 4-A; 17-year-olds, 9-year olds.")} == {
        ("quantity", "3.5-inch"), ("duration", "5-year"), ("date", "2020")}
    centre = SourceChunk("c3", "d3", "The centre employs 8 technicians and has 6 service bays. In 2025 the shop "
                         "sold 390 vehicles.", "en", "Hamburg service centre", "page 1")
    counted = {(p.question, p.answer) for p in fact_pairs(centre, SourceDocument("d3", "h.pdf", "H", "en"))}
    assert ("How many service bays does Hamburg service centre have?", "6 service bays") in counted
    assert not any(q.startswith("How many vehicles") for q, _ in counted)  # sold, not had


def test_a_heading_many_documents_share_is_not_the_subject_and_split_tables_keep_their_header():
    sheets = [SourceDocument(f"d{i}", f"sheet{i}.docx", f"{name} technical datasheet", "en")
              for i, name in enumerate(["Aurel 300 (VM-A300)", "Keel 40 (VM-K40)"])]
    for document, rating in zip(sheets, ["IPX4", "IPX6"], strict=True):
        document.chunks.append(SourceChunk(f"c{document.id}", document.id, f"The electronics are rated {rating} "
                                           "against water.", "en", "Safety and weather", "section 2"))
    generic = shared_headings(sheets)
    assert generic == frozenset({"Safety and weather"})
    asked = {p.question: p.answer for d in sheets for p in fact_pairs(d.chunks[0], d, generic)}
    blank = 'In "Keel 40 (VM-K40)", what fills the blank: "The electronics are rated ___ against water"?'
    assert asked[blank] == "IPX6"
    assert not any("Safety and weather" in q for q in asked)
    prices = SourceDocument("p", "parts.xlsx", "Spare parts", "en")
    header = "| Part number | Part | Price |\n|---|---|---|\n"
    prices.chunks += [SourceChunk("p1", "p", header + "| VP-1 | bell | 7.50 EUR |", "en", None, "sheet 1"),
                      SourceChunk("p2", "p", "| VP-2 | rear rack | 64.00 EUR |\n| VP-3 | lock | 12.00 EUR |", "en",
                                  None, "sheet 1")]
    continued = {(p.question, p.answer) for p in fact_pairs(prices.chunks[1], prices)}
    assert ('What is the price of rear rack (VP-2) in "Spare parts"?', "64.00 EUR") in continued
    assert ("How much does rear rack (VP-2) cost?", "64.00 EUR") in continued  # a code row named by its name too
    alone = SourceDocument("q", "rows.xlsx", "Rows", "en")
    alone.chunks.append(SourceChunk("q1", "q", "| VP-2 | rear rack | 64.00 EUR |", "en", None, "sheet 1"))
    assert not any(p.meta["kind"] == "table" for p in fact_pairs(alone.chunks[0], alone))  # no header to carry


def test_a_thing_described_by_the_words_before_its_noun_is_asked_what_kind():
    """"It has hydraulic disc brakes" names no value by shape, label or copula: the noun names the attribute and
    its modifiers are the value. Lists are read item by item; counts, participles, praise and other owners are not
    descriptions of the subject."""
    sheet = SourceDocument("d7", "sheet.docx", "Aurel 300 (VM-A300) technical datasheet", "en")
    chunk = SourceChunk("c7", "d7", "It has hydraulic disc brakes, a front light of 70 lux, and the electronics are "
                        "rated IPX4. The drivetrain has single speed gearing. The VM-A300 comes in grey, with a "
                        "2.2-inch colour display and a ring lock.", "en", "Aurel 300 (VM-A300) technical datasheet",
                        "page 1")
    asked = {(p.question, p.answer) for p in fact_pairs(chunk, sheet) if p.meta["kind"] == "description"}
    assert ("What kind of brakes does Aurel 300 (VM-A300) have?", "hydraulic disc") in asked
    assert ("What brakes does Aurel 300 (VM-A300) have?", "hydraulic disc brakes") in asked
    assert ('In "Aurel 300 (VM-A300)", what fills the blank: "It has ___ brakes"?', "hydraulic disc") in asked
    assert ("What gearing does the drivetrain of Aurel 300 (VM-A300) have?", "single speed gearing") in asked
    assert ("What display does Aurel 300 (VM-A300) have?", "2.2-inch colour display") in asked  # a size describes
    assert ("What lock does Aurel 300 (VM-A300) have?", "ring lock") in asked  # the list's second item
    assert not any("light" in q for q, _ in asked)  # "a front light of 70 lux" is a quantity's, not a kind
    prose = SourceChunk("c8", "d8", "It has increased sales and great products. Customers have limited access. "
                        "The centre has 14 technicians. The shop has been a partner since 2020. The report has an "
                        "executive summary. It has recently opened stores. The team has daily stand-up meetings. "
                        "It doesn't have hydraulic brakes. It causes severe damage.",
                        "en", "Harbour Bikes", "page 1")
    described = [p for p in fact_pairs(prose, SourceDocument("d8", "h.md", "H", "en"))
                 if p.meta["kind"] == "description"]
    assert {(p.question, p.answer) for p in described} >= {
        ("What summary does the report of Harbour Bikes have?", "executive summary"),
        ("What kind of meetings does the team of Harbour Bikes have?", "daily stand-up")}  # "daily" is no adverb
    assert not any(word in p.answer for p in described
                   for word in ("increased", "great", "limited", "14", "been", "recently", "hydraulic", "severe"))


def test_the_colours_or_counted_options_a_thing_comes_in_are_asked_only_where_the_list_is_sure():
    """English lists name no noun, so only lists of nothing but colours are asked (a closed vocabulary); a Chinese
    list names its noun and its count, and the count must match the items. A negated offer is no option."""
    sheet = SourceDocument("d9", "sheet.md", "Sprig 80 datasheet", "en")
    chunk = SourceChunk("c9", "d9", "The VM-S80 comes in white and graphite, with a LED dot display. The saddle comes "
                        "in three sizes. The manual is available in English and French. The frames are available in "
                        "matte black, slate grey or moss green. It doesn't come in red and blue. The tea comes in "
                        "mint, lemon and peach flavours. The solution is available in amber glass vials.", "en", None,
                        "page 1")
    asked = {(p.question, p.answer) for p in fact_pairs(chunk, sheet) if p.meta["kind"] == "colour"}
    assert asked == {
        ("Which colours does VM-S80 come in?", "white and graphite"),  # the list ends where its items stop naming one
        ("What colours is VM-S80 available in?", "white and graphite"),
        ('In "VM-S80", what fills the blank: "The VM-S80 comes in ___"?', "white and graphite"),
        ("Which colours do the frames of Sprig 80 come in?", "matte black, slate grey or moss green"),
        ("What colours are the frames of Sprig 80 available in?", "matte black, slate grey or moss green"),
        ('In "Sprig 80", what fills the blank: "The frames are available in ___"?',
         "matte black, slate grey or moss green")}
    american = SourceChunk("c10", "d9", "It comes in red, blue and black. Two colors cost extra.", "en", None, "p")
    assert ("Which colors does Sprig 80 come in?", "red, blue and black") in {
        (p.question, p.answer) for p in fact_pairs(american, sheet)}  # spelled as the document spells it
    zh = SourceDocument("d11", "参数.md", "辛德载货车", "zh")
    listed = SourceChunk("c11", "d11", "VM-C120提供信号橙和黑色两种颜色。本店有红色、蓝色和白色两种颜色。"
                         "公司有三种产品。该车分为标准版、长续航版两种型号，售价不同。电池分为标准及长续航两种。"
                         "车架分为三种：钢、铝与碳纤维。座椅分为真皮、织物两种材质。该车型没有红色和蓝色两种颜色。"
                         "提供红色和蓝色十二种颜色。", "zh", None, "第1页")
    options = {(p.question, p.answer) for p in fact_pairs(listed, zh) if p.meta["kind"] == "options"}
    assert options == {("VM-C120提供哪两种颜色？", "信号橙和黑色"), ("VM-C120有哪些颜色？", "信号橙和黑色"),
                       ("关于辛德载货车，该车分为哪两种型号？", "标准版、长续航版"),
                       ("辛德载货车有哪些型号？", "标准版、长续航版"),
                       ("关于辛德载货车，电池分为哪两种？", "标准及长续航"),  # no noun: asked in its clause only
                       ("关于辛德载货车，车架分为哪三种？", "钢、铝与碳纤维"),  # the items after their count
                       ("关于辛德载货车，座椅分为哪两种材质？", "真皮、织物"),
                       ("辛德载货车的座椅有哪些材质？", "真皮、织物")}  # a part's; no negation, no "十二" read as "二"
