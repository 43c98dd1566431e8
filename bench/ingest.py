"""Benchmark: ownllm's text extraction vs markitdown on the same files, in one run.

    python bench/ingest.py [--out bench/ingest-results.json]

Files: the bundled sample company plus ../shared/testdata/real-docs. Each engine runs in its
own process (so peak RSS is its own) over every file, one at a time, with a per-file time
limit. Reported: files/s and PDF pages/s on the files both engines turn into text, peak RSS,
fidelity to ground truth where it exists, coverage (files that yield text), and OCR character
error rate on rendered Chinese and English text images (markitdown has no OCR of its own).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
REAL = ROOT.parent / "shared" / "testdata" / "real-docs"
REAL_2 = ROOT.parent / "shared" / "testdata" / "real-docs-2"
SETS = (REAL, REAL_2)
PER_FILE_LIMIT_S = 60


class _Timeout(Exception):
    pass


def _alarm(*_: object) -> None:
    raise _Timeout()


def extract_ownllm(path: Path) -> str:
    return _ownllm_text(path.read_bytes(), path.name, str(path), depth=0)


def _ownllm_text(data: bytes, name: str, key: str, depth: int) -> str:
    """A file's text as ownllm stores it, followed by its attachments' (archive members, mail attachments),
    which the ingest job stores as child files: markitdown inlines them, so the comparison does too."""
    from ownllm.ingest.chunk import layout
    from ownllm.ingest.cleaning.run import clean_document
    from ownllm.ingest.detect import detect_type
    from ownllm.ingest.parsed import ParseError
    from ownllm.ingest.parsers import IMAGE_TYPES, MEDIA_TYPES, parse
    from ownllm.store.tenant_settings import CleaningConfig

    kind = detect_type(data, name).type
    if kind in IMAGE_TYPES or kind in MEDIA_TYPES:
        MODEL_USERS.add(key)  # loads PP-OCR or whisper, whether or not it finds text
    document = parse(data, kind, name)
    if document.parser in ("rapidocr", "faster-whisper") or any("OCR" in flag for flag in document.flags):
        MODEL_USERS.add(key)
    clean_document(document, CleaningConfig(), b"bench" * 8)
    parts = [layout(document)[0]] if document.has_text else []
    for attachment in document.attachments if depth < 2 else []:
        try:
            parts.append(_ownllm_text(attachment.data, attachment.name, key, depth + 1))
        except ParseError:
            continue
    return "\n\n".join(part for part in parts if part.strip())


MODEL_USERS: set[str] = set()  # files ownllm read with an OCR or speech model (markitdown never does)


def extract_markitdown(path: Path) -> str:
    global _markitdown
    if _markitdown is None:
        from markitdown import MarkItDown

        _markitdown = MarkItDown()
    return _markitdown.convert(str(path)).text_content or ""


_markitdown = None
ENGINES = {"ownllm": extract_ownllm, "markitdown": extract_markitdown}


def run_engine(engine: str, files: list[str], out: Path) -> None:
    """Child process: extract every file, record time, size of text and the text itself."""
    extract = ENGINES[engine]
    signal.signal(signal.SIGALRM, _alarm)
    results = {}
    for name in files:
        path = Path(name)
        started = time.perf_counter()
        signal.alarm(PER_FILE_LIMIT_S)
        try:
            text, error = extract(path), None
        except _Timeout:
            text, error = "", f"timed out after {PER_FILE_LIMIT_S} s"
        except Exception as exc:
            text, error = "", f"{type(exc).__name__}: {str(exc)[:120]}"
        finally:
            signal.alarm(0)
        results[name] = {"seconds": time.perf_counter() - started, "text": text, "error": error,
                         "model": name in MODEL_USERS}
    peak_mb = peak_rss_mb()
    out.write_text(json.dumps({"engine": engine, "peak_rss_mb": peak_mb, "files": results}, ensure_ascii=False))


def peak_rss_mb(pid: int | str = "self") -> float:
    """The process's own high-water RSS (VmHWM). Not getrusage: Linux carries ru_maxrss across fork and
    exec, so a child started by a big parent would report the parent's size as its own peak."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def _children(parent: int) -> list[int]:
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == parent:
            found.append(int(stat.parent.name))
    return found


class WorkerPeakWatcher(threading.Thread):
    """Polls the high-water RSS of this process's children (the parser workers) until stopped."""

    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.peak, self.halt = 0.0, threading.Event()

    def run(self) -> None:
        while not self.halt.wait(0.05):
            for pid in _children(os.getpid()):
                with contextlib.suppress(OSError):
                    self.peak = max(self.peak, peak_rss_mb(pid))


def run_pipeline(files: list[str], out: Path) -> None:
    """Child process: the real ingest job over the files (worker processes, cleaning, chunking, storing).

    Peak RSS is read for this parent and, separately, for the largest worker: workers load
    the OCR and speech models only when a file needs them, and the cap that matters for a
    hostile file is the per-worker one.
    """
    from ownllm.config import Settings
    from ownllm.ingest.pipeline import ingest_paths
    from ownllm.store.home import open_home
    from ownllm.store.tenants import create_tenant

    home = open_home(Settings(home=Path(tempfile.mkdtemp(prefix="ownllm-bench-home-"))))
    tenant = create_tenant(home, "bench")
    watcher = WorkerPeakWatcher()
    watcher.start()
    started = time.perf_counter()
    report = ingest_paths(home, tenant.id, [Path(f) for f in files])
    seconds = time.perf_counter() - started
    watcher.halt.set()
    watcher.join()
    out.write_text(json.dumps({
        "seconds": seconds, "files": len(files), "workers": home.settings.ingest_workers,
        "parsed": report.count("parsed"), "failed": report.count("failed"),
        "parent_peak_rss_mb": peak_rss_mb(), "largest_worker_peak_rss_mb": watcher.peak,
    }))


def _child(mode: list[str], files: list[str], work: Path, label: str) -> dict:
    listing, out = work / f"{label}-files.json", work / f"{label}.json"
    listing.write_text(json.dumps(files))
    subprocess.run([sys.executable, __file__, *mode, "--files", str(listing), "--out", str(out)], check=True)
    return json.loads(out.read_text())


def pdf_pages(path: Path) -> int:
    import pypdfium2 as pdfium

    try:
        with pdfium.PdfDocument(str(path)) as pdf:
            return len(pdf)
    except Exception:
        return 0


def ocr_cer() -> dict[str, float]:
    """Character error rate of our OCR on text we render ourselves (Chinese needs a CJK font)."""
    from PIL import Image, ImageDraw, ImageFont

    from ownllm.ingest.parsers.image_ocr import ocr_image

    lines = {
        "en": ["The spare battery VM-B540 costs 410 USD.", "Returns are accepted within 45 days of delivery.",
               "Support lines are open from 08:00 to 20:00."],
        "zh": ["维川出行的车架提供十年质保。", "顾客可在收货后四十五天内无理由退货。",
               "全国售后服务热线的服务时间为每天九点至二十一点。"],
    }
    fonts = {"en": "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
             "zh": "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc"}
    rates = {}
    for lang, texts in lines.items():
        font_path = fonts[lang]
        font = ImageFont.truetype(font_path, 36) if Path(font_path).exists() else None
        if font is None and lang == "zh":
            continue
        image = Image.new("RGB", (1400, 100 + 80 * len(texts)), "white")
        draw = ImageDraw.Draw(image)
        for i, text in enumerate(texts):
            draw.text((40, 40 + 80 * i), text, fill="black", font=font or ImageFont.load_default(size=36))
        read = "".join(line.text for line in ocr_image(image).lines).replace(" ", "")
        truth = "".join(texts).replace(" ", "")
        rates[lang] = _edit_distance(read, truth) / len(truth)
    return rates


def speech_cer(transcripts: dict[str, str]) -> dict[str, float]:
    """Character error rate of ownllm's transcript of the sample company's Mandarin meeting (its script
    is the ground truth); punctuation and spaces are ignored, as they are not spoken."""
    from ownllm.samples.documents_zh import chinese_documents

    rates = {}
    for spec in chinese_documents():
        if spec.fmt == "m4a":
            truth = "".join(block.text for unit in spec.units for block in unit.blocks)
            heard = next((text for name, text in transcripts.items() if name.endswith(spec.name)), "")
            keep = [_spoken(truth), _spoken(heard)]
            rates[spec.name] = _edit_distance(keep[1], keep[0]) / len(keep[0])
    return rates


def _spoken(text: str) -> str:
    return "".join(ch for ch in text if ch.isalnum())


def _edit_distance(a: str, b: str) -> int:
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, start=1):
        current = [i]
        for j, cb in enumerate(b, start=1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb)))
        previous = current
    return previous[-1]


def ground_truth() -> dict[str, str]:
    """Reference text per file, from each set's MANIFEST: Markdown (real-docs), plain text, CSV tables,
    Jest snapshots of node-word-extractor and Readability's expected HTML (real-docs-2)."""
    import csv

    from ownllm.ingest.fidelity import reference_text

    truth = {}
    for folder in SETS:
        if not (folder / "MANIFEST.tsv").exists():
            continue
        rows = list(csv.reader((folder / "MANIFEST.tsv").open(encoding="utf-8"), delimiter="\t"))[1:]
        for row in rows:
            reference = folder / row[0]
            if not row[0].startswith("groundtruth/") or reference.suffix == ".uzn":
                continue
            described = row[4] if folder == REAL_2 else row[5]
            targets = described.split(" for ", 1)[-1].split(" (")[0]
            for target in (name.strip() for name in targets.split(",")):
                if (folder / target).exists():
                    truth[str(folder / target)] = reference_text(reference)
    return truth


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--engine", choices=sorted(ENGINES))
    parser.add_argument("--pipeline", action="store_true")
    parser.add_argument("--files")
    parser.add_argument("--out", default=str(ROOT / "bench" / "ingest-results.json"))
    args = parser.parse_args()
    if args.engine:  # child modes
        run_engine(args.engine, json.loads(Path(args.files).read_text()), Path(args.out))
        return 0
    if args.pipeline:
        run_pipeline(json.loads(Path(args.files).read_text()), Path(args.out))
        return 0

    from ownllm.ingest.fidelity import similarity
    from ownllm.samples.generate import generate

    work = Path(tempfile.mkdtemp(prefix="ownllm-bench-"))
    company = generate(work / "company")
    files = sorted(str(p) for p in company.dropbox.iterdir())
    for folder in SETS:
        if folder.exists():
            files += sorted(str(p) for p in folder.iterdir() if p.is_file() and p.suffix not in (".tsv",)
                            and p.name != "LICENSES.md")
    runs = {engine: _child(["--engine", engine], files, work, engine) for engine in ENGINES}
    ours, theirs = runs["ownllm"]["files"], runs["markitdown"]["files"]

    def has_text(result: dict) -> bool:
        return bool(result["text"].strip()) and result["error"] is None

    both = [f for f in files if has_text(ours[f]) and has_text(theirs[f])]
    # memory on equal terms: each engine again, in a fresh process, over only the files both handle
    common_rss = {engine: _child(["--engine", engine], both, work, f"{engine}-common")["peak_rss_mb"]
                  for engine in ENGINES}
    plain = [f for f in both if not ours[f]["model"]]  # minus the files ownllm re-OCRs (garbage text layers)
    plain_rss = {engine: _child(["--engine", engine], plain, work, f"{engine}-plain")["peak_rss_mb"]
                 for engine in ENGINES}
    pipeline = _child(["--pipeline"], files, work, "pipeline")
    pdfs = [f for f in both if f.endswith(".pdf")]
    pages = sum(pdf_pages(Path(f)) for f in pdfs)
    truth = {f: text for f, text in ground_truth().items() if f in ours}
    # "formats markitdown also reads": the files it turns into text; scans and audio it cannot read are left out
    readable = [f for f in truth if has_text(theirs[f])]
    rows = []
    for engine, results in (("ownllm", ours), ("markitdown", theirs)):
        seconds_both = sum(results[f]["seconds"] for f in both)
        seconds_pdf = sum(results[f]["seconds"] for f in pdfs)
        scores = {f: similarity(results[f]["text"], truth[f]) for f in truth}
        fidelity = list(scores.values())

        def mean(names: list[str], scores: dict[str, float] = scores) -> float:
            return sum(scores[f] for f in names) / len(names) if names else 0.0

        rows.append({
            "fidelity_markitdown_reads": mean(readable),
            **{f"fidelity_{folder.name}": mean([f for f in truth if Path(f).parent == folder]) for folder in SETS},
            "engine": engine, "files_with_text": sum(has_text(results[f]) for f in files),
            "files_per_s_common": len(both) / seconds_both if seconds_both else 0.0,
            "pdf_pages_per_s_common": pages / seconds_pdf if seconds_pdf else 0.0,
            "peak_rss_mb": runs[engine]["peak_rss_mb"], "peak_rss_mb_common": common_rss[engine],
            "peak_rss_mb_common_no_ocr": plain_rss[engine],
            "fidelity_mean": sum(fidelity) / len(fidelity) if fidelity else 0.0,
            "fidelity": {Path(f).name: round(score, 3) for f, score in scores.items()},
        })
    only_ours = sorted(Path(f).name for f in files if has_text(ours[f]) and not has_text(theirs[f]))
    only_theirs = sorted(Path(f).name for f in files if has_text(theirs[f]) and not has_text(ours[f]))
    cer = ocr_cer()
    asr = speech_cer({name: result["text"] for name, result in ours.items()})
    summary = {"files": len(files), "common_files": len(both), "fidelity_files": len(truth),
               "fidelity_files_markitdown_reads": len(readable), "common_no_ocr_files": len(plain),
               "common_pdf_pages": pages, "engines": rows,
               "only_ownllm": only_ours, "only_markitdown": only_theirs, "ocr_cer": cer, "speech_cer": asr,
               "pipeline": pipeline}
    Path(args.out).write_text(json.dumps(summary, indent=1, ensure_ascii=False))

    a, b = rows
    print(f"{len(files)} files ({len(both)} turned into text by both, {pages} PDF pages among them)\n")
    print(f"{'metric':34s} {'ownllm':>12s} {'markitdown':>12s} {'ratio':>8s}")
    for key, label in (("files_per_s_common", "files/s (files both handle)"),
                       ("pdf_pages_per_s_common", "PDF pages/s (PDFs both handle)"),
                       ("peak_rss_mb_common_no_ocr", f"peak RSS MB ({len(plain)} common, no OCR)"),
                       ("peak_rss_mb_common", "peak RSS MB (files both handle)"),
                       ("peak_rss_mb", "peak RSS MB (all files)"),
                       ("fidelity_mean", f"fidelity, all {len(truth)} with truth"),
                       *((f"fidelity_{folder.name}", f"fidelity, {folder.name}") for folder in SETS),
                       ("fidelity_markitdown_reads", f"fidelity, {len(readable)} md reads"),
                       ("files_with_text", "files yielding text")):
        ratio = a[key] / b[key] if b[key] else float("inf")
        print(f"{label:34s} {a[key]:12.2f} {b[key]:12.2f} {ratio:7.2f}x")
    print("\nper-file fidelity (ownllm / markitdown):")
    for name, score in a["fidelity"].items():
        print(f"  {name:52s} {score:5.3f} / {b['fidelity'][name]:5.3f}")
    print(f"\nonly ownllm yields text ({len(only_ours)}): {', '.join(only_ours)}")
    print(f"only markitdown yields text ({len(only_theirs)}): {', '.join(only_theirs) or '-'}")
    print("OCR character error rate (ownllm; markitdown has no OCR): "
          + ", ".join(f"{lang} {rate:.3f}" for lang, rate in cer.items()))
    print("speech character error rate (ownllm; markitdown has no ASR): "
          + ", ".join(f"{name} {rate:.3f}" for name, rate in asr.items()))
    print(f"\nownllm ingest job over all {pipeline['files']} files ({pipeline['workers']} workers): "
          f"{pipeline['seconds']:.1f} s, {pipeline['parsed']} parsed, {pipeline['failed']} failed; peak RSS "
          f"{pipeline['parent_peak_rss_mb']:.0f} MB in the job process, "
          f"{pipeline['largest_worker_peak_rss_mb']:.0f} MB in the largest worker")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
