"""The console without a browser: sign-in, sessions, CSRF, tenant scoping and the admin view over real HTTP
(in-process server, fake engine), and the previews and charts it draws. The browser flow is in
tests/e2e/test_console.py."""

from __future__ import annotations

import re

import httpx
import pytest
from sqlalchemy import select

from ownllm.serve.console.render import bar_chart, highlight, line_chart
from ownllm.services.browse import chunk_row
from ownllm.services.previews import describe_preview, preview_image
from ownllm.store.catalog import Chunk, Document, File
from ownllm.store.keys import create_key, revoke_key
from tests.serve.conftest import ADMIN_KEY

PAGES = ("/console/data", "/console/corpus", "/console/search?q=anything", "/console/training", "/console/tuning",
         "/console/evals", "/console/models", "/console/playground", "/console/apps", "/console/usage")


def signed_in(url: str, key: str) -> httpx.Client:
    client = httpx.Client(base_url=url, timeout=30)
    form = client.get("/console/login")
    token = re.search(r'name="csrf" value="([0-9a-f.]+)"', form.text).group(1)
    done = client.post("/console/login", data={"key": key, "csrf": token, "next": "/console/data"})
    assert done.status_code == 303 and done.headers["location"] == "/console/data", done.text
    return client


def csrf_of(client: httpx.Client) -> str:
    return re.search(r'name="csrf-token" content="([0-9a-f]+)"', client.get("/console/data").text).group(1)


def test_sign_in_sets_a_strict_http_only_cookie_and_every_page_renders_empty(live):
    client = httpx.Client(base_url=live.url, timeout=30)
    assert client.get("/console/data").status_code == 303  # to the sign-in page
    form = client.get("/console/login")
    token = re.search(r'name="csrf" value="([0-9a-f.]+)"', form.text).group(1)
    wrong = client.post("/console/login", data={"key": "sk-nope-nope", "csrf": token})
    assert wrong.status_code == 401 and "Incorrect API key" in wrong.text
    forged = client.post("/console/login", data={"key": live.acme, "csrf": "f" * 32})
    assert forged.status_code == 403  # the sign-in form's own token must match its cookie
    done = client.post("/console/login", data={"key": live.acme, "csrf": token, "next": "//evil.example/x"})
    assert done.status_code == 303 and done.headers["location"] == "/console/"  # no open redirect
    cookie = done.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie and "Path=/console" in cookie
    assert live.acme not in cookie  # the secret never reaches the browser
    for path in PAGES:
        page = client.get(path)
        assert page.status_code == 200, (path, page.text[:300])
        assert "Content-Security-Policy" in page.headers and "acme" in page.text
    zh = client.get("/console/data?ui=zh")
    assert "数据空间" in zh.text and 'lang="zh-CN"' in zh.text


def test_a_tampered_or_revoked_session_is_signed_out(live):
    client = signed_in(live.url, live.acme)
    cookie = client.cookies.get("ownllm_console", path="/console")
    payload, _, signature = cookie.partition(".")
    client.cookies.set("ownllm_console", payload + "." + "0" * len(signature), path="/console")
    assert client.get("/console/data").status_code == 303
    key, plaintext = create_key(live.home, live.acme_id, "console")
    other = signed_in(live.url, plaintext)
    assert other.get("/console/data").status_code == 200
    revoke_key(live.home, key.id)
    assert other.get("/console/data").status_code == 303  # revoking the key ends its sessions


def test_state_changes_need_the_csrf_token_and_uploads_report_errors_by_name(live):
    client = signed_in(live.url, live.acme)
    files = {"file": ("notes.md", b"# Notes\n\nThe kettle is descaled every Friday.\n", "text/markdown")}
    assert client.post("/console/data/upload", files=files).status_code == 403
    token = csrf_of(client)
    sent = client.post("/console/data/upload", files=files, headers={"X-CSRF-Token": token,
                                                                      "Accept": "application/json"})
    assert sent.status_code == 200 and sent.json()["job_id"].startswith("job_")
    empty = client.post("/console/data/upload", files={"file": ("blank.txt", b"", "text/plain")},
                        headers={"X-CSRF-Token": token, "Accept": "application/json"})
    assert empty.status_code == 400 and "blank.txt" in empty.json()["error"]["message"]
    bad = client.post("/console/tuning", data={"csrf": token, "model": "smollm2-135m-instruct",
                                               "max_steps": "many", "source": "corpus:latest"})
    assert bad.status_code == 400 and 'id="err-max_steps"' in bad.text and "whole number" in bad.text
    wrong_model = client.post("/console/tuning", data={"csrf": token, "model": "gpt-9", "source": "corpus:latest"})
    assert wrong_model.status_code == 400 and 'id="err-model"' in wrong_model.text
    options = client.post("/console/tuning", data={"csrf": token, "model": "smollm2-135m-instruct",
                                                   "source": "corpus:latest", "options": "no equals sign"})
    assert options.status_code == 400 and 'id="err-options"' in options.text


def test_other_tenants_objects_are_not_found_and_the_admin_sees_tenants(live):
    acme = signed_in(live.url, live.acme)
    token = csrf_of(acme)
    job = acme.post("/console/data/upload", files={"file": ("a.md", b"# A\n\nalpha beta\n", "text/markdown")},
                    headers={"X-CSRF-Token": token, "Accept": "application/json"}).json()["job_id"]
    own = acme.get(f"/console/jobs/{job}")
    assert own.status_code == 200 and job in own.text and 'data-live="/console/jobs/' in own.text
    globex = signed_in(live.url, live.globex)
    assert globex.get(f"/console/jobs/{job}").status_code == 404
    assert globex.get(f"/console/jobs/{job}/live").status_code == 404
    assert globex.get("/console/evals/" + job).status_code == 404
    assert "a.md" not in globex.get("/console/data").text
    admin = httpx.Client(base_url=live.url, timeout=30)
    token = re.search(r'name="csrf" value="([0-9a-f.]+)"', admin.get("/console/login").text).group(1)
    assert admin.post("/console/login", data={"key": ADMIN_KEY, "csrf": token}).headers["location"] == "/console/"
    listing = admin.get("/console/admin")
    assert listing.status_code == 200 and "acme" in listing.text and "globex" in listing.text
    assert admin.get("/console/data").status_code == 403  # the admin key has no data space
    assert acme.get("/console/admin").status_code == 403


def test_highlight_escapes_and_marks_latin_and_chinese_terms():
    marked = str(highlight("<b>Frame</b> warranty 保修十年", "frame 保修"))
    assert "&lt;b&gt;" in marked and "<mark>Frame</mark>" in marked and "<mark>保修</mark>" in marked
    assert str(highlight("plain", "")) == "plain"


def test_charts_draw_one_point_per_step_and_one_bar_per_group():
    chart = str(line_chart([(1, 2.0), (2, 1.5), (3, 1.1)], title="loss"))
    assert chart.count("<circle") == 3 and "<polyline" in chart
    assert str(line_chart([], title="x")).count("<circle") == 0
    bars = str(bar_chart([("a", 1.0), ("b", 3.0)], intervals=[(0.5, 1.5), (2.0, 4.0)]))
    assert bars.count("<rect") == 2 and bars.count('class="ci"') == 2


@pytest.mark.parametrize("kind,expected", [("pdf", "image"), ("pptx", "image"), ("xlsx", "table"), ("csv", "table"),
                                           ("m4a", "audio"), ("png", "image"), ("docx", "none")])
def test_previews_show_each_format_at_its_place(acme, kind, expected):
    home = acme.home
    with home.catalog.session() as session:
        chunk_id = session.scalar(select(Chunk.id).join(Document, Document.id == Chunk.document_id)
                                  .join(File, File.id == Document.file_id)
                                  .where(File.tenant_id == acme.tenant_id, File.detected_type == kind).limit(1))
    assert chunk_id is not None, f"the sample company has a {kind} file"
    chunk, _, file = chunk_row(home, acme.tenant_id, chunk_id)
    preview = describe_preview(home, chunk, file)
    assert preview.kind == expected
    if expected == "image":
        data, media = preview_image(home, acme.tenant_id, chunk_id)
        assert data[:4] in (b"\x89PNG", b"\xff\xd8\xff\xe0", b"\xff\xd8\xff\xe1") and media.startswith("image/")
    if expected == "table":
        assert len(preview.rows) >= 2 and any(cell for cell in preview.rows[0])
    if expected == "audio":
        assert preview.start_s is not None and preview.media_type == "audio/mp4"


def test_a_key_sees_only_the_pages_its_scopes_allow(live):
    _, chat_only = create_key(live.home, live.acme_id, "chatbot", scopes=["inference"])
    client = signed_in(live.url, chat_only)
    shown = client.get("/console/playground")
    assert shown.status_code == 200
    nav = shown.text.split("</nav>")[0]
    assert 'href="/console/playground"' in nav and 'href="/console/data"' not in nav
    assert 'href="/console/models"' not in nav and 'href="/console/tuning"' not in nav
    for path in ("/console/data", "/console/tuning", "/console/models", "/console/training", "/console/evals",
                 "/console/models/download?model=ft:x&kind=model"):
        assert client.get(path).status_code == 403, path


def test_bad_input_is_a_clear_4xx_never_a_500(live):
    client = signed_in(live.url, live.acme)
    token = csrf_of(client)
    for path in ("/console/corpus/diff?old=%C2%B2&new=1", "/console/corpus/99999999999999999999",
                 "/console/corpus/diff?old=99999999999999999999&new=1", "/console/search?q=x&top_k=500"):
        assert 400 <= client.get(path).status_code < 500, path
    weird = client.post("/console/data/upload", headers={"X-CSRF-Token": "é".encode("latin-1") * 10},
                        files={"file": ("a.md", b"x", "text/markdown")})
    assert weird.status_code == 403
    for line in ("1", '"text"', "[]"):
        bad = client.post("/console/evals", data={"csrf": token, "questions": line, "limit": "5"})
        assert bad.status_code == 400 and 'id="err-questions"' in bad.text, line
    negative = client.post("/console/evals", data={"csrf": token, "questions": '{"question": "q?", "answer": "a"}',
                                                   "limit": "-1"})
    assert negative.status_code == 400 and 'id="err-limit"' in negative.text
    chat = client.post("/console/playground/chat", json=[1, 2], headers={"X-CSRF-Token": token,
                                                                          "Accept": "application/json"})
    assert chat.status_code == 400 and "JSON object" in chat.json()["error"]["message"]


def test_a_deleted_files_chunks_and_previews_are_gone(live):
    client = signed_in(live.url, live.acme)
    token = csrf_of(client)
    sent = client.post("/console/data/upload", files={"file": ("gone.md", b"# Gone\n\nThe vault code is 7291.\n",
                                                               "text/markdown")},
                       headers={"X-CSRF-Token": token, "Accept": "application/json"}).json()
    from tests.serve.conftest import wait_job

    assert wait_job(live, sent["job_id"])["status"] == "succeeded"
    with live.home.catalog.session() as session:
        chunk_id = session.scalar(select(Chunk.id).join(Document, Document.id == Chunk.document_id)
                                  .where(Document.file_id == sent["file_id"]))
    assert client.get(f"/console/chunks/{chunk_id}").status_code == 200
    assert httpx.delete(f"{live.url}/v1/files/{sent['file_id']}", headers=live.auth()).status_code == 200
    assert client.get(f"/console/chunks/{chunk_id}").status_code == 404
    assert client.get(f"/console/files/{sent['file_id']}/original").status_code == 404
