"""The web console in a real Chromium (Debian's, driven by Playwright) against the real `ownllm serve`.

The flow test is one person's journey on a fresh tenant: sign in, upload three files of different formats
(and two hostile ones), watch the ingest finish live, search and open the source, tune SmolLM2 for a few
steps while the loss curve updates, evaluate, and chat with a citation click. Screenshots of every page go
to the test's output folder (`OWNLLM_CONSOLE_SHOTS` keeps them somewhere else, e.g. docs/console/).
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import expect

from ownllm.store.keys import create_key
from ownllm.store.tenants import create_tenant

CHROMIUM = "/usr/bin/chromium"
QUESTIONS = ('{"question": "How long is the frame warranty on Veltrano bikes?", "answer": "10 years", '
             '"source": "warranty_policy.pdf"}')


@dataclass
class Tenant:
    name: str
    key: str


@pytest.fixture(scope="module")
def initech(acme) -> Tenant:
    tenant = create_tenant(acme.home, "initech")
    return Tenant("initech", create_key(acme.home, tenant.id)[1])


@pytest.fixture(scope="module")
def browser() -> Iterator:
    from playwright.sync_api import sync_playwright

    assert Path(CHROMIUM).exists(), "Debian's chromium is needed (`make system` installs it)"
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield launched
        launched.close()


@pytest.fixture
def shots(tmp_path: Path) -> Path:
    folder = Path(os.environ.get("OWNLLM_CONSOLE_SHOTS") or tmp_path / "screenshots")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def sign_in(browser, base_url: str, key: str, **context):
    page = browser.new_context(viewport={"width": 1280, "height": 800}, **context).new_page()
    page.goto(f"{base_url}/console/")
    assert "/console/login" in page.url
    page.get_by_label("API key").fill(key)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(re.compile(r".*/console/data$"))
    return page


def open_page(page, name: str) -> None:
    page.get_by_role("navigation").get_by_role("link", name=name).click()


def wait_status(page, selector: str, timeout_s: float) -> str:
    """Wait for the live panel to show a finished job (locators, not page scripts: the console's CSP forbids eval)."""
    done = ", ".join(f"{selector} [data-status='{s}']" for s in ("succeeded", "failed", "cancelled"))
    page.locator(done).first.wait_for(timeout=timeout_s * 1000)
    return page.locator(f"{selector} [data-status]").first.get_attribute("data-status") or ""


def test_a_person_goes_from_files_to_a_tuned_model_in_the_browser(server, acme, initech, browser, shots, tmp_path):
    page = sign_in(browser, server.base_url, initech.key)
    page.keyboard.press("Tab")  # keyboard first: the skip link, then the navigation
    assert page.evaluate("document.activeElement.className") == "skip"
    page.keyboard.press("Tab")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Data space"
    page.screenshot(path=shots / "01-data-space.png", full_page=True)

    # three formats, a disguised executable and an empty file, chosen together as one would in a file dialog
    dropbox = acme.company.dropbox
    hostile = tmp_path / "invoice_2026.pdf"
    hostile.write_bytes(b"MZ\x90\x00" + b"\x00" * 2048 + b"This program cannot be run in DOS mode.")
    empty = tmp_path / "empty_notes.txt"
    empty.write_bytes(b"")
    chosen = [dropbox / "warranty_policy.pdf", dropbox / "project_orbit.pptx", dropbox / "price_list_2026.xlsx",
              hostile, empty]
    page.set_input_files("#pick-files", [str(p) for p in chosen])
    uploads = page.locator("#uploads li")
    expect(page.locator("#uploads li.sent, #uploads li.refused")).to_have_count(5, timeout=60_000)
    assert uploads.count() == 5
    refused = page.locator("#uploads li.refused")
    assert refused.count() == 1 and "empty" in refused.inner_text()  # refused at once, with the reason

    # uploads that arrive while an ingest waits join it; later ones start the next: watch every panel finish
    panels = page.locator("#upload-job .live")
    expect(page.locator("#upload-job .live [data-status]")).to_have_count(panels.count(), timeout=60_000)
    unfinished = "#upload-job .live [data-status='running'], #upload-job .live [data-status='queued']"
    expect(page.locator(unfinished)).to_have_count(0, timeout=300_000)
    assert page.locator("#upload-job .live [data-status='succeeded']").count() == panels.count()
    panel = page.locator("#upload-job").inner_text()
    assert "warranty_policy.pdf" in panel and "project_orbit.pptx" in panel and "price_list_2026.xlsx" in panel
    page.screenshot(path=shots / "02-ingest-finished.png", full_page=True)
    page.reload()
    bad_row = page.locator("tr[data-file='invoice_2026.pdf']")
    assert bad_row.count() == 1
    assert re.search(r"failed|unsupported", bad_row.inner_text()), bad_row.inner_text()
    assert bad_row.locator(".reason").inner_text().strip(), "the refused file shows why"

    # corpus: the version, a document's chunks
    open_page(page, "Corpus")
    versions = page.locator("tbody a")
    newest = versions.first.inner_text()
    if versions.count() > 1:  # the uploads made two versions: their diff lists what the second added
        page.get_by_role("button", name="Compare").click()
        added = page.locator("li.added")
        assert added.count() >= 1 and page.locator("li.removed").count() == 0
        page.screenshot(path=shots / "03-corpus-diff.png", full_page=True)
        page.go_back()
    page.get_by_role("link", name=newest, exact=True).click()
    assert page.locator("tbody tr").count() == 3
    page.screenshot(path=shots / "03-corpus-version.png", full_page=True)
    page.locator("tbody a", has_text="warranty").first.click()
    assert page.locator("ol.chunks li").count() >= 1 and "page" in page.locator("ol.chunks").inner_text()

    # search, then open the exact place in the source (a PDF page rendered as an image)
    open_page(page, "Search")
    page.get_by_label("Query").fill("frame warranty years")
    page.get_by_role("button", name="Search").last.click()
    first = page.locator("article.hit").first
    assert "warranty" in first.inner_text().lower() and first.locator("mark").count() > 0
    page.screenshot(path=shots / "04-search.png", full_page=True)
    first.locator("a.source-link").click()
    assert page.locator("#found").inner_text().strip()
    image = page.locator("img.page-image")
    image.wait_for()
    assert image.evaluate("img => img.decode().then(() => img.naturalWidth)") > 100  # the page, rendered
    page.screenshot(path=shots / "05-source.png", full_page=True)

    # tuning: a bad option is shown next to its field; then a short run whose loss curve updates live
    open_page(page, "Tuning")
    page.get_by_label("Max steps").fill("lots")
    page.get_by_role("button", name="Start").click()
    assert "whole number" in page.locator("#err-max_steps").inner_text()
    page.get_by_label("Max steps").fill("3")
    page.locator("summary").click()
    page.locator("#options").fill("training.seq_len=128\ntraining.batch_size=2\ntraining.grad_accum=1\n"
                                  "training.save_every=1\nsynth.replay_prompts=2")
    page.get_by_role("button", name="Start").click()
    page.wait_for_url(re.compile(r".*/console/tuning/job_\w+$"))
    seen = set()
    page.locator("#job-panel svg circle").first.wait_for(timeout=400_000)
    seen.add(page.locator("#job-panel svg circle").count())
    status = wait_status(page, "#job-panel", 400)
    seen.add(page.locator("#job-panel svg circle").count())
    assert status == "succeeded", page.locator("#job-panel").inner_text()
    assert max(seen) == 3
    panel = page.locator("#job-panel").inner_text()
    assert "ft:smollm2-135m-instruct:initech" in panel  # the lineage names the model, live
    assert "Step 3" in panel and "sft-lora" in panel  # checkpoints and recipe
    assert page.locator("#job-panel button", has_text="Cancel").count() == 0  # a finished run cannot be cancelled
    page.screenshot(path=shots / "06-tuning.png", full_page=True)

    # evaluation: one question, base and tuned, then the report with the gate's decision
    open_page(page, "Evaluation")
    page.locator("input[name=models][value^='ft:smollm2-135m-instruct:initech']").check()
    page.locator("#questions").fill(QUESTIONS)
    page.get_by_label("At most this many questions per set").fill("1")
    page.get_by_role("button", name="Start").click()
    page.wait_for_url(re.compile(r".*/console/evals/job_\w+$"))
    page.locator("table.summary").wait_for(timeout=400_000)  # the page reloads itself when the job ends
    assert "base+RAG" in page.locator("table.summary").inner_text()
    gate = page.locator("section.gate").inner_text()
    assert "ft:smollm2-135m-instruct:initech" in gate and "promoted" in gate  # the decision, and why
    page.screenshot(path=shots / "07-evaluation.png", full_page=True)
    eval_id = page.url.rsplit("/", 1)[-1]
    page.goto(f"{server.base_url}/console/evals/compare?a={eval_id}&b={eval_id}")
    assert page.locator("table.summary").count() == 2

    open_page(page, "Models")
    assert page.locator("code", has_text="ft:smollm2-135m-instruct:initech").count() == 1
    page.screenshot(path=shots / "08-models.png", full_page=True)
    page.get_by_role("button", name="Export to GGUF").click()  # a background job, then a download
    assert wait_status(page, "#job-panel", 400) == "succeeded", page.locator("#job-panel").inner_text()
    with page.expect_download() as download:
        page.locator("#job-panel a.button").click()
    exported = download.value.path()
    assert exported.stat().st_size > 10_000_000 and exported.open("rb").read(4) == b"GGUF"

    # playground: a streamed answer with citation chips; a chip opens the cited passage
    open_page(page, "Playground")
    page.select_option("#chat-model", "smollm2-135m-instruct")
    page.get_by_label("Message").fill("How long is the frame warranty?")
    page.get_by_role("button", name="Send").click()
    chip = page.locator(".conversation[data-slot='0'] a.chip").first
    chip.wait_for(timeout=120_000)
    expect(page.locator("#chat-form button[type=submit]")).to_be_enabled(timeout=120_000)
    answer = page.locator(".conversation[data-slot='0'] .assistant").first.inner_text()
    assert answer.strip() and answer != "…"
    page.screenshot(path=shots / "09-playground.png", full_page=True)
    chip.click()
    page.wait_for_url(re.compile(r".*/console/chunks/chk_\w+$"))
    assert page.locator("#found").inner_text().strip()

    # side by side: one question to the base and the tuned model, both with knowledge
    open_page(page, "Playground")
    page.select_option("#chat-model", "smollm2-135m-instruct")
    tuned = page.locator("#chat-compare option", has_text="ft:smollm2-135m-instruct:initech").first
    page.select_option("#chat-compare", tuned.get_attribute("value"))
    page.get_by_label("Message").fill("What is the restocking fee for opened products?")
    page.get_by_role("button", name="Send").click()
    expect(page.locator("#chat-form button[type=submit]")).to_be_enabled(timeout=180_000)
    for slot in ("0", "1"):
        answered = page.locator(f".conversation[data-slot='{slot}'] .assistant").first.inner_text()
        assert answered.strip() and answered != "…", slot
    assert page.locator(".conversation[data-slot='1'] .model-name").inner_text().startswith("ft:")

    # an app from its form: a shopping list priced from the uploaded price list
    open_page(page, "Apps")
    page.locator("a[href='/console/apps/shopping_plan']").click()
    page.locator("#in-need").fill("two e-bikes for our courier team")
    # the form posts and the answer page comes when the app has run: the click itself waits for that navigation,
    # so it gets the same bound as the wait below, not Playwright's 30 s (a slow machine took longer)
    page.get_by_role("button", name="Run").click(timeout=300_000)
    page.wait_for_url(re.compile(r".*/console/apps/runs/apprun_\w+$"), timeout=300_000)
    assert page.locator("section.checks li").count() >= 2  # the checks, each passed or failed with its reason
    page.screenshot(path=shots / "10-app-run.png", full_page=True)

    for name, path in (("11-usage", "/console/usage"),
                       ("12-training-data", "/console/training")):
        page.goto(f"{server.base_url}{path}")
        page.screenshot(path=shots / f"{name}.png", full_page=True)
    usage = page.context.request.get(f"{server.base_url}/console/usage")
    assert "chat/completions" in usage.text() or "smollm2" in usage.text()  # the playground's chat was metered

    # Chinese UI and a phone-width screen
    page.goto(f"{server.base_url}/console/language?to=zh&next=/console/data")
    assert page.get_by_role("link", name="数据空间").count() == 1
    page.set_viewport_size({"width": 390, "height": 844})
    page.screenshot(path=shots / "13-data-zh-phone.png", full_page=True)
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
    page.context.close()


def test_a_second_tenant_sees_none_of_the_first_tenants_things(server, acme, browser):
    """globex signs in and opens acme's document, chunk, job, dataset and preview by URL: 404 each time."""
    home = acme.home
    from sqlalchemy import select

    from ownllm.store.catalog import Chunk, Document, File, Job

    with home.catalog.session() as session:
        document = session.scalar(select(Document).where(Document.tenant_id == acme.tenant_id).limit(1))
        chunk = session.scalar(select(Chunk).where(Chunk.document_id == document.id).limit(1))
        job = session.scalar(select(Job).where(Job.tenant_id == acme.tenant_id).limit(1))
        name = session.get(File, document.file_id).original_name
    page = sign_in(browser, server.base_url, server.globex_key)
    request = page.context.request
    for path in (f"/console/documents/{document.id}", f"/console/chunks/{chunk.id}",
                 f"/console/chunks/{chunk.id}/preview", f"/console/jobs/{job.id}", f"/console/jobs/{job.id}/live",
                 f"/console/files/{document.file_id}/original", f"/console/tuning/{job.id}"):
        assert request.get(f"{server.base_url}{path}").status == 404, path
    page.goto(f"{server.base_url}/console/data")
    assert name not in page.content()
    page.goto(f"{server.base_url}/console/search?q=warranty")
    assert "warranty_policy.pdf" not in page.content()
    page.context.close()


def test_forms_without_the_csrf_token_and_pages_without_a_session_are_refused(server, browser):
    page = sign_in(browser, server.base_url, server.globex_key)
    request = page.context.request
    refused = request.post(f"{server.base_url}/console/tuning", form={"model": "smollm2-135m-instruct"})
    assert refused.status == 403 and "CSRF" in refused.text()
    token = page.locator("meta[name=csrf-token]").get_attribute("content")
    wrong = request.post(f"{server.base_url}/console/logout", form={"csrf": "0" * 64})
    assert wrong.status == 403
    signed_out = request.post(f"{server.base_url}/console/logout", form={"csrf": token}, max_redirects=0)
    assert signed_out.status == 303
    anonymous = browser.new_context().request
    assert anonymous.get(f"{server.base_url}/console/data", max_redirects=0).status == 303
    assert anonymous.post(f"{server.base_url}/console/tuning", form={}).status == 401
    bad = browser.new_context().new_page()
    bad.goto(f"{server.base_url}/console/login")
    bad.get_by_label("API key").fill("sk-nope-wrong")
    bad.get_by_role("button", name="Sign in").click()
    assert bad.locator("#login-error").inner_text().strip()
    page.context.close()


def test_readme_screenshots_are_current():
    """The README shows console screenshots; they must exist where it points (refresh: OWNLLM_CONSOLE_SHOTS)."""
    root = Path(__file__).resolve().parents[2]
    readme = (root / "README.md").read_text(encoding="utf-8")
    shown = re.findall(r"\]\((docs/console/[^)]+\.png)\)", readme)
    assert shown and all((root / p).is_file() for p in shown)
