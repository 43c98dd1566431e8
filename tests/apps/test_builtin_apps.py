"""The six built-in apps on the default reader (Qwen2.5-Coder-0.5B, installed by `make install`), over the
sample company: real ASR, OCR, retrieval and generation. Output must be schema-valid JSON with what
code derives from it (times, exact budget, catalogue prices, the app page), and every run is recorded.
Which checks a 0.5B model passes is the scorecard's business (bench/apps.py), not this test's."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from ownllm.apps.evalcases import case_files, load_cases
from ownllm.apps.inputs import AppFile
from ownllm.services.apps import app_run, app_runs, run_and_record
from ownllm.services.runtime import Runtime
from tests.conftest import IngestedHome

READER = "qwen2.5-coder-0.5b-instruct"


@pytest.fixture(scope="module")
def runtime(acme: IngestedHome) -> Runtime:
    return Runtime.for_cli(acme.home)


def run(acme: IngestedHome, runtime: Runtime, app: str, inputs: dict, files: dict | None = None) -> dict:
    run_id, result = run_and_record(runtime, acme.tenant_id, app, inputs, files or {}, READER)
    assert result.output, f"{app}: no valid output: {result.checks[0].detail}"
    assert result.checks[0].check == "schema" and result.checks[0].passed
    stored = app_run(acme.home, acme.tenant_id, run_id)
    assert stored["output"] == json.loads(json.dumps(result.output)) and stored["model"] == READER
    assert stored["usage"]["completion_tokens"] > 0 and stored["markdown"]
    return stored


def test_meeting_minutes_from_the_sample_companys_recording(acme: IngestedHome, runtime: Runtime) -> None:
    recording = acme.company.dropbox / "售后周例会录音.m4a"
    stored = run(acme, runtime, "meeting_minutes", {}, {"recording": AppFile(recording.name, recording.read_bytes())})
    assert stored["lang"] == "zh" and stored["input_hashes"]["recording"]
    items = [*stored["output"]["decisions"], *stored["output"]["action_items"], *stored["output"]["open_questions"]]
    assert items, "the meeting has decisions and tasks; the minutes list none"
    assert all(item["time"] and item["time"].startswith("00:") for item in items)  # every item points at a moment
    assert "# 会议纪要" in stored["markdown"]


def test_chat_digest_links_points_to_the_exports_message_ids(acme: IngestedHome, runtime: Runtime) -> None:
    case = next(c for c in load_cases("chat_digest") if c["inputs"]["format"] == "feishu")
    stored = run(acme, runtime, "chat_digest", case["inputs"], case_files(case))
    ids = [i for conv in stored["output"]["conversations"] for kind in ("key_points", "decisions", "todos")
           for point in conv[kind] for i in point["message_ids"]]
    assert ids and all(i.startswith("om_") for i in ids)  # the export's own ids, not the prompt's M1, M2


def test_marketing_plan_budget_is_exact_and_claims_cite_the_corpus(acme: IngestedHome, runtime: Runtime) -> None:
    stored = run(acme, runtime, "marketing_plan", {"product": "Aurel 300 (VM-A300)", "audience": "city commuters",
                                                   "budget": 12345.67, "currency": "EUR", "period": "Q2 2026"})
    assert sum(Decimal(str(line["amount"])) for line in stored["output"]["budget"]) == Decimal("12345.67")
    assert stored["citations"], "no claim cites a passage of the corpus"
    assert all(c["document"] for c in stored["citations"].values())


def test_shopping_plan_prices_come_from_the_catalogue(acme: IngestedHome, runtime: Runtime) -> None:
    stored = run(acme, runtime, "shopping_plan", {"need": "冬天骑电助力车通勤，需要车灯和挡泥板"})
    priced = [i for g in stored["output"]["groups"] for i in g["items"] if i["unit_price"] is not None]
    assert priced, "nothing on the list was priced from the price lists"
    assert all(i["line_total"] == round(i["unit_price"] * i["quantity"], 2) for i in priced)
    assert stored["output"]["totals"]


def test_voice_request_spoken_in_mandarin_is_heard_and_timed(acme: IngestedHome, runtime: Runtime) -> None:
    case = next(c for c in load_cases("voice_request") if "audio" in c["files"])
    stored = run(acme, runtime, "voice_request", case["inputs"], case_files(case))
    assert stored["variant"] == case["expect"]["kind"]
    assert stored["speech_to_first_token_ms"] is not None and stored["speech_to_first_token_ms"] > 0


def test_sketch_to_app_builds_a_page_with_the_sketchs_labels(acme: IngestedHome, runtime: Runtime) -> None:
    case = load_cases("sketch_to_app")[0]
    stored = run(acme, runtime, "sketch_to_app", case["inputs"], case_files(case))
    page = stored["output"]["html"]
    assert page.startswith("<!") and "<script" in page and "http" not in page.split("<body", 1)[1]
    assert case["files"]["sketch"]["draw"]["title"] in page
    assert {r["app"] for r in app_runs(acme.home, acme.tenant_id)} >= {"sketch_to_app"}
