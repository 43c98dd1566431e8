"""The CLI as a user runs it: a real `ownllm` process per command, in its own home."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from ownllm.samples.generate import SampleCompany


def _run(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "OWNLLM_HOME": str(home), "COLUMNS": "200"}
    return subprocess.run([sys.executable, "-m", "ownllm", *args], env=env, capture_output=True, text=True,
                          timeout=300, check=False)


def test_cli_init_tenant_ingest_corpus_search_ask(tmp_path: Path, sample_company: SampleCompany) -> None:
    home = tmp_path / "home"
    assert _run(home, "init").returncode == 0
    created = _run(home, "tenant", "create", "acme")
    assert created.returncode == 0
    assert created.stdout.strip().splitlines()[-1].startswith("ol-key_")
    assert "already exists" in _run(home, "tenant", "create", "acme").stderr
    # the answer below is checked for its fact, so the demo's reader reads it: SmolLM2 (the tests' default reader)
    # read "27 days" as "20" on one machine's llama.cpp build and not another's, which is luck, not plumbing
    reader = _run(home, "tenant", "config", "acme", '{"models": {"reader": "qwen2.5-coder-0.5b-instruct"}}')
    assert reader.returncode == 0, reader.stderr

    count = len(sample_company.manifest())
    ingested = _run(home, "ingest", "acme", str(sample_company.dropbox))
    assert ingested.returncode == 0, ingested.stderr
    assert f"{count} parsed, 0 unchanged, 0 duplicate, 0 expanded, 0 unsupported, 0 failed" in ingested.stdout
    again = _run(home, "ingest", "acme", str(sample_company.dropbox))
    assert f"0 parsed, {count} unchanged" in again.stdout and "no new corpus version" in again.stdout

    shown = json.loads(_run(home, "corpus", "acme", "show", "--json").stdout)
    assert shown["number"] == 1 and len(shown["documents"]) == count
    files = _run(home, "corpus", "acme", "files").stdout
    assert "delivery_note_scan.png" in files and "text from OCR" in files

    hits = json.loads(_run(home, "search", "acme", "VM-C120 载货 售价", "--json", "-k", "2").stdout)
    assert hits[0]["file_name"] == "产品手册.pdf" and hits[0]["unit_number"] == 1

    answer = json.loads(_run(home, "ask", "acme", "How many days of annual leave do full-time employees get?",
                             "--json").stdout)
    assert answer["citations"][0]["document"] == "employee_handbook.docx"
    assert "27 days" in answer["answer"]

    missing = _run(home, "search", "nobody", "x")
    assert missing.returncode == 1 and "tenant 'nobody' does not exist" in missing.stderr


def test_tenant_config_refuses_bad_keys_by_name_and_keeps_what_was_set(tmp_path: Path) -> None:
    home = tmp_path / "home"
    assert _run(home, "tenant", "create", "acme").returncode == 0
    kept = _run(home, "tenant", "config", "acme", '{"cleaning": {"pii": {"kinds": ["email"]}}}')
    assert kept.returncode == 0, kept.stderr
    bad_limit = _run(home, "tenant", "config", "acme", '{"limits": {"max_pages": "lots"}}')
    assert bad_limit.returncode == 1 and "limits.max_pages" in bad_limit.stderr
    unknown = _run(home, "tenant", "config", "acme", '{"limitz": {}}')
    assert unknown.returncode == 1 and "limitz: unknown key" in unknown.stderr
    merged = _run(home, "tenant", "config", "acme", '{"limits": {"max_pages": 50}}')
    settings = json.loads(merged.stdout)
    assert settings["limits"]["max_pages"] == 50
    assert settings["cleaning"]["pii"]["kinds"] == ["email"]  # merged, nothing lost
    ingested = _run(home, "search", "acme", "anything")  # later parses of the tenant still work
    assert "no corpus yet" in ingested.stderr


def test_models_lists_every_model_with_licence_roles_and_the_tenant_s_choices(tmp_path: Path) -> None:
    home = tmp_path / "home"
    assert _run(home, "init").returncode == 0
    assert _run(home, "tenant", "create", "acme").returncode == 0
    chosen = _run(home, "tenant", "config", "acme", '{"models": {"reader": "qwen2.5-coder-0.5b-instruct"}}')
    assert chosen.returncode == 0, chosen.stderr
    refused = _run(home, "tenant", "config", "acme", '{"models": {"base": "gpt-9"}}')
    assert refused.returncode != 0 and "models.base" in refused.stderr
    listed = _run(home, "models", "--tenant", "acme", "--json")
    assert listed.returncode == 0, listed.stderr
    rows = {row["id"]: row for row in json.loads(listed.stdout)}
    assert set(rows) >= {"smollm2-135m-instruct", "qwen2.5-coder-0.5b-instruct", "qwen2.5-coder-1.5b-instruct"}
    assert all(row["license"] == "Apache-2.0" and row["size_mb"] > 0 for row in rows.values())
    assert rows["qwen2.5-coder-0.5b-instruct"]["installed"] and "reads" in rows["qwen2.5-coder-0.5b-instruct"][
        "default_for"]
    assert "is tuned" in rows["smollm2-135m-instruct"]["default_for"]  # (it also teaches: tests pin it, conftest)
    assert "tunable" in rows["smollm2-135m-instruct"]["roles"]
    assert "tunable" in rows["qwen2.5-coder-0.5b-instruct"]["roles"]  # a larger base a tenant may choose


def test_app_commands_list_add_run_show_runs_and_eval(tmp_path: Path) -> None:
    """`ownllm app`: no corpus needed for a sketch or a voice request; SmolLM2 (tests' reader) runs them."""
    home = tmp_path / "home"
    assert _run(home, "tenant", "create", "acme").returncode == 0
    listed = _run(home, "app", "list", "acme")
    assert listed.returncode == 0 and "meeting_minutes" in listed.stdout and "sketch_to_app" in listed.stdout

    spec = tmp_path / "greeting.yaml"
    spec.write_text("name: greeting\ntitle: Greeting\ninputs: {type: object, properties: {who: {type: string}}}\n"
                    "prompt: 'Greet {{ who }} warmly.'\noutput: {type: object, properties: {text: {type: string, "
                    "maxLength: 80}}, required: [text]}\nrender: '{{ output.text }}'\nmax_tokens: 60\n")
    added = _run(home, "app", "add", "acme", str(spec))
    assert added.returncode == 0 and "greeting version 1" in added.stdout
    hostile = tmp_path / "hostile.yaml"
    hostile.write_text(spec.read_text().replace("greeting", "hostile").replace("{{ who }}", "{{ who.__class__ }}"))
    refused = _run(home, "app", "add", "acme", str(hostile))
    assert refused.returncode == 1 and "private" in refused.stderr

    ran = _run(home, "app", "run", "acme", "greeting", "-i", "who=Ada", "--format", "json")
    assert ran.returncode == 0, ran.stderr
    run = json.loads(ran.stdout)
    assert run["app"] == "greeting" and run["output"]["text"] and run["model"] == "smollm2-135m-instruct"
    shown = _run(home, "app", "show", "acme", run["id"])
    assert shown.returncode == 0 and shown.stdout.strip() == run["markdown"].strip()
    assert run["id"] in _run(home, "app", "runs", "acme").stdout
    missing = _run(home, "app", "run", "acme", "voice_request", "-i", "request=hello")
    assert missing.returncode == 1 and "story, a playlist or a recipe" in missing.stderr

    card_path = tmp_path / "card.json"
    scored = _run(home, "app", "eval", "acme", "--app", "voice_request", "--limit", "2", "--json", str(card_path))
    assert scored.returncode == 0, scored.stderr
    card = json.loads(card_path.read_text())
    assert card["rows"][0]["app"] == "voice_request" and card["rows"][0]["cases"] == 2
    assert {case["lang"] for case in card["cases"]} == {"en", "zh"}
    assert 0.0 <= card["rows"][0]["schema_valid"] <= 1.0 and "voice_request" in scored.stdout
