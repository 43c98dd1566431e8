"""Models split over part packages are joined once and verified by sha256; roles pick who reads, teaches, is tuned.

The join tests build their own tiny part packages on sys.path (the real Qwen parts are 490 MB and 1.1 GB); the
reader test runs the real Qwen2.5-Coder-0.5B, which `make install` puts in every environment the suite runs in.
"""

from __future__ import annotations

import hashlib
from dataclasses import replace
from pathlib import Path

import pytest

from ownllm.chat.answer import AnswerRequest, Knowledge, answer
from ownllm.config import Settings
from ownllm.errors import InvalidInput
from ownllm.inference.pool import shared_pool
from ownllm.models.hub import (
    QWEN25_CODER_05B,
    READER,
    SHIPPED_MODELS,
    TUNABLE,
    ModelIntegrityError,
    join_parts,
    strongest,
)
from ownllm.models.roles import check_settings, default_roles, role_models
from ownllm.store.tenants import create_tenant, update_tenant_settings
from ownllm.tune.gguf_map import ARCHITECTURES


def _fake_parts(root: Path, chunks: list[bytes], prefix: str) -> tuple[str, ...]:
    names = []
    for index, chunk in enumerate(chunks, 1):
        package = root / f"{prefix}{index}"
        (package / "data").mkdir(parents=True)
        (package / "data" / f"part{index:02d}.bin").write_bytes(chunk)
        (package / "__init__.py").write_text(
            "import os\ndef get_part_path():\n"
            f"    return os.path.join(os.path.dirname(__file__), 'data', 'part{index:02d}.bin')\n")
        names.append(package.name)
    return tuple(names)


@pytest.fixture
def parts_on_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "site"
    root.mkdir()
    monkeypatch.syspath_prepend(str(root))
    return root


def test_parts_are_joined_in_order_verified_and_reused(parts_on_path: Path, tmp_path: Path) -> None:
    chunks = [b"GGUF" + bytes(range(256)) * 40, b"second part" * 3000, b"tail"]
    model = replace(QWEN25_CODER_05B, id="fake", packages=_fake_parts(parts_on_path, chunks, "fake_ok_part"),
                    filename="fake.gguf", sha256=hashlib.sha256(b"".join(chunks)).hexdigest())
    cache = tmp_path / "cache"
    path = join_parts(model, cache)
    assert path.read_bytes() == b"".join(chunks)
    stamp = path.stat().st_mtime_ns
    assert join_parts(model, cache) == path and path.stat().st_mtime_ns == stamp  # verified once, then reused
    path.write_bytes(b"tampered")  # a changed file is hashed again and rebuilt from the parts
    assert join_parts(model, cache).read_bytes() == b"".join(chunks)


def test_a_join_that_is_not_the_official_file_is_refused_and_removed(parts_on_path: Path, tmp_path: Path) -> None:
    chunks = [b"GGUF-one", b"GGUF-two"]
    model = replace(QWEN25_CODER_05B, id="fake", packages=_fake_parts(parts_on_path, chunks, "fake_bad_part"),
                    filename="bad.gguf", sha256="0" * 64)
    cache = tmp_path / "cache"
    with pytest.raises(ModelIntegrityError, match=r"sha256 .* not the official"):
        join_parts(model, cache)
    assert not (cache / "bad.gguf").exists() and not list(cache.glob("*.partial"))
    with pytest.raises(ModelIntegrityError, match="never loaded unverified"):
        join_parts(replace(model, sha256=None), cache)


def test_missing_parts_name_the_packages_to_install() -> None:
    model = replace(QWEN25_CODER_05B, id="absent", packages=("no_such_part_pkg1", "no_such_part_pkg2"))
    assert not model.installed
    with pytest.raises(Exception, match=r"no-such-part-pkg1.*make models"):
        model.locate()


def test_the_strongest_installed_model_reads_unless_the_tenant_chooses(home) -> None:
    installed = [m for m in SHIPPED_MODELS.values() if READER in m.roles and m.installed]
    assert QWEN25_CODER_05B in installed  # `make install` ships it
    best = max(installed, key=lambda m: m.strength)
    assert strongest(READER) == best
    assert default_roles(Settings(home=home.root, default_reader=None)).reader == best.id
    assert default_roles(Settings(home=home.root, default_reader="smollm2-135m-instruct")).reader == \
        "smollm2-135m-instruct"
    tenant = create_tenant(home, "chooser").id
    update_tenant_settings(home, tenant, {"models": {"reader": QWEN25_CODER_05B.id}}, check=check_settings)
    roles = role_models(home, tenant)
    assert roles.reader == QWEN25_CODER_05B.id and roles.base == "smollm2-135m-instruct"
    update_tenant_settings(home, tenant, {"models": {"base": QWEN25_CODER_05B.id}}, check=check_settings)
    assert role_models(home, tenant).base == QWEN25_CODER_05B.id
    with pytest.raises(InvalidInput, match=r"models\.base: 'llama-70b' cannot be the base"):
        update_tenant_settings(home, tenant, {"models": {"base": "llama-70b"}}, check=check_settings)
    with pytest.raises(InvalidInput, match=r"models\.reader: 'gpt-9' cannot be the reader"):
        update_tenant_settings(home, tenant, {"models": {"reader": "gpt-9"}}, check=check_settings)
    assert role_models(home, tenant).reader == QWEN25_CODER_05B.id  # refused changes stored nothing


def test_every_installed_tunable_model_is_of_a_family_the_gguf_export_writes() -> None:
    """A tuned model is served from a GGUF adapter; a base whose architecture the writer lacks cannot be offered."""
    import gguf

    tunable = [m for m in SHIPPED_MODELS.values() if TUNABLE in m.roles and m.installed]
    assert {m.id for m in tunable} >= {"smollm2-135m-instruct", QWEN25_CODER_05B.id}
    exportable = {arch for arch, _ in ARCHITECTURES.values()}
    for model in tunable:
        field = gguf.GGUFReader(model.locate()).fields["general.architecture"]
        assert field.contents() in exportable, model.id


def test_a_reader_that_can_read_answers_in_chinese_and_declines_what_is_not_there(acme) -> None:
    pool = shared_pool(acme.home.settings.engine_memory_mb)

    def ask(question: str):
        return answer(acme.home, pool, acme.tenant_id, AnswerRequest(
            QWEN25_CODER_05B.id, [{"role": "user", "content": question}], max_tokens=48, knowledge=Knowledge()))

    returns = ask("收货后多少天内可以退货？")
    assert "45" in returns.text and any("\u4e00" <= ch <= "\u9fff" for ch in returns.text)
    assert returns.citations and not returns.not_found
    frame = ask("How long is the frame warranty on Veltrano bikes?")
    assert "10 years" in frame.text and frame.citations[0]["document"] == "warranty_policy.pdf"
    invented = ask("How much does the Aurel 700 cost?")  # no such model: the reader must not make up a price
    assert invented.not_found, invented.text
