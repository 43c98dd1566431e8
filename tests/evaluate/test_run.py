"""A full evaluation of the base model against a (briefly) tuned SmolLM2: report, gate, model status."""

from __future__ import annotations

import json

from ownllm.evaluate.run import EvalRequest, evaluate
from ownllm.store.catalog import TunedModel
from ownllm.synth.config import SynthConfig
from ownllm.synth.run import synthesize
from ownllm.tune.run import TuneRequest, tune


def test_four_systems_are_scored_reported_and_gated(acme):
    dataset = synthesize(acme.home, acme.tenant_id, SynthConfig(seed=5, raft=False, replay=False))
    tuned = tune(acme.home, acme.tenant_id, TuneRequest(dataset=dataset.id, suffix="evaltest", overrides={
        "stages.0.max_steps": 2, "training.seq_len": 128, "training.batch_size": 2, "stages.0.learning_rate": 2e-3}))
    outcome = evaluate(acme.home, acme.tenant_id, EvalRequest(models=["smollm2-135m-instruct", tuned.model_id],
                                                              dataset=dataset.id, limit=3))
    report = outcome.report
    assert report["systems"] == ["base", "base+RAG", "tuned", "tuned+RAG"]
    assert set(report["summary"]) == {"heldout", "train"}
    for per_set in report["summary"].values():
        for system, cell in per_set.items():
            assert cell["n"] == 3 and 0.0 <= cell["f1"]["ci"][0] <= cell["f1"]["mean"] <= cell["f1"]["ci"][1] <= 1.0
            assert (cell["not_found_rate"] is None) == (not system.endswith("+RAG"))
    heldout_docs = set(dataset.split["heldout_documents"])
    assert {r["source"] for r in report["rows"] if r["set"] == "heldout"} <= heldout_docs
    assert {r["source"] for r in report["rows"] if r["set"] == "train"}.isdisjoint(heldout_docs)
    [gate] = report["gate"]
    assert gate["model"] == tuned.model_id and gate["perplexity_ratio"] > 0 and gate["reasons"]
    assert set(report["general"]) == {"smollm2-135m-instruct", tuned.model_id}
    assert len(report["general"][tuned.model_id]["answers"]) == 4
    with acme.home.catalog.session() as session:
        status = session.get(TunedModel, tuned.model_id).status
    assert status == ("promoted" if gate["promoted"] else "rejected")
    saved = json.loads((outcome.report_path.parent / "report.json").read_text())
    assert saved["id"] == outcome.job_id
    page = outcome.report_path.read_text()
    assert page.count("data:image/png;base64,") == 2 and "Promotion gate" in page


def test_a_company_s_own_questions_are_placed_by_held_out_document_and_declines_score_unanswerables(acme, tmp_path):
    dataset = synthesize(acme.home, acme.tenant_id, SynthConfig(seed=5, raft=False, replay=False, passages=False))
    heldout = set(dataset.split["heldout_documents"])
    facts = acme.company.facts()
    chosen = [f for f in facts if f["source"] in heldout][:2] + [f for f in facts if f["source"] not in heldout][:2]
    lines = [{"question": f["question"], "answer": f["answer"], "source": f["source"], "lang": f["lang"]}
             for f in chosen]
    lines += [{"question": "How much does the Aurel 700 cost?", "unanswerable": True},
              {"question": "奥瑞尔 800 的续航是多少？", "unanswerable": True}]
    questions = tmp_path / "own.jsonl"
    questions.write_text("".join(json.dumps(line, ensure_ascii=False) + "\n" for line in lines), encoding="utf-8")
    outcome = evaluate(acme.home, acme.tenant_id, EvalRequest(
        models=["smollm2-135m-instruct"], dataset=dataset.id, questions_file=questions, split_questions_file=True,
        limit=5, apply_gate=False))
    report = outcome.report
    assert report["sets"] == ["heldout", "train", "unanswerable"] and report["reader"] is None
    rows = report["rows"]
    assert {r["source"] for r in rows if r["set"] == "heldout"} <= heldout
    assert {r["source"] for r in rows if r["set"] == "train"}.isdisjoint(heldout)
    assert {r["question"] for r in rows} == {line["question"] for line in lines}  # the synthesized ones are not asked
    unanswerable = report["summary"]["unanswerable"]["base+RAG"]
    assert unanswerable["n"] == 2 and unanswerable["declined"]["mean"] == unanswerable["f1"]["mean"] == 1.0
    for cell in report["summary"]["heldout"].values():
        assert 0.0 <= cell["answer_language"]["mean"] <= 1.0
    assert "(not in the documents)" in outcome.report_path.read_text()
