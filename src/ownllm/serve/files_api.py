"""Files and jobs over HTTP: `POST /v1/files` (purpose `knowledge`) ingests into the caller's data
space as a background job; `GET /v1/jobs/{id}` shows its live progress; `GET /v1/files[/{id}]`
reports each file's status and, when it was rejected, why.
"""

from __future__ import annotations

import re
import shutil
import threading
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Form, Request, UploadFile
from sqlalchemy import select

from ownllm.corpus.versions import get_version
from ownllm.errors import InvalidInput, NotFound
from ownllm.ingest.pipeline import ingest_paths
from ownllm.jobs.tracker import JobTracker, get_job, job_events
from ownllm.retrieval.indexes import ensure_indexes
from ownllm.serve.auth import Owner
from ownllm.store.catalog import File, Job
from ownllm.store.home import Home

router = APIRouter(prefix="/v1")
UPLOAD_SOURCE = "upload"
_OPENAI_STATUS = {"parsed": "processed", "duplicate": "processed", "expanded": "processed",
                  "failed": "error", "unsupported": "error"}


def _file_object(file: File) -> dict[str, Any]:
    return {
        "id": file.id, "object": "file", "bytes": file.size, "created_at": int(file.created_at.timestamp()),
        "filename": file.original_name, "purpose": "knowledge",
        "status": "deleted" if file.deleted_at else _OPENAI_STATUS.get(file.status, "uploaded"),
        "status_details": file.error, "detected_type": file.detected_type, "flags": file.flags or [],
    }


def _job_object(job: Job) -> dict[str, Any]:
    return {
        "id": job.id, "object": "job", "kind": job.kind, "status": job.status, "stage": job.stage,
        "current_item": job.current_item, "progress": {"done": job.progress_done, "total": job.progress_total},
        "created_at": int(job.created_at.timestamp()), "result": job.result or None, "error": job.error,
    }


def _safe_name(name: str) -> str:
    base = Path(name.replace("\\", "/")).name
    return re.sub(r"[\x00-\x1f]", "", base).strip() or "upload"


def _run_ingest(home: Home, tenant_id: str, path: Path, tracker: JobTracker) -> None:
    try:
        report = ingest_paths(home, tenant_id, [path], source=UPLOAD_SOURCE, tracker=tracker)
    except Exception:  # ingest_paths has already marked the job failed with the reason
        report = None
    try:
        if report is not None and report.version_id is not None:
            ensure_indexes(home, get_version(home, tenant_id, report.version_id))
    except Exception as exc:  # searches will build the index lazily; say why it was not built now
        tracker.event(f"index build after ingest failed: {type(exc).__name__}: {exc}", level="error")
    finally:
        shutil.rmtree(path.parent, ignore_errors=True)


@router.post("/files")
def upload_file(request: Request, owner: Owner, file: UploadFile, purpose: str = Form(...)) -> dict[str, Any]:
    if purpose != "knowledge":
        raise InvalidInput(f"purpose {purpose!r} is not supported here; use 'knowledge'", param="purpose")
    home: Home = request.app.state.home
    name = _safe_name(file.filename or "upload")
    tracker = JobTracker.create(home, "ingest", owner.tenant_id, {"files": 1, "upload": name})
    staging = home.root / "uploads" / owner.tenant_id / tracker.job_id
    staging.mkdir(parents=True, exist_ok=True)
    path = staging / name
    with open(path, "wb") as out:
        shutil.copyfileobj(file.file, out, 1 << 20)
    sha, size = home.blobs.put_file(path)
    with home.catalog.session() as session:
        row = session.scalar(select(File).where(File.tenant_id == owner.tenant_id, File.source == UPLOAD_SOURCE,
                                                File.original_name == name, File.sha256 == sha))
        if row is None:
            row = File(tenant_id=owner.tenant_id, source=UPLOAD_SOURCE, original_name=name, sha256=sha, size=size,
                       detected_type="pending")
            session.add(row)
            session.flush()
        body = _file_object(row)
    threading.Thread(target=_run_ingest, args=(home, owner.tenant_id, path, tracker), daemon=True).start()
    return {**body, "job_id": tracker.job_id}


@router.get("/files")
def list_uploaded_files(request: Request, owner: Owner) -> dict[str, Any]:
    home: Home = request.app.state.home
    with home.catalog.session() as session:
        files = session.scalars(select(File).where(File.tenant_id == owner.tenant_id).order_by(File.created_at))
        return {"object": "list", "data": [_file_object(f) for f in files]}


@router.get("/files/{file_id}")
def get_file(file_id: str, request: Request, owner: Owner) -> dict[str, Any]:
    home: Home = request.app.state.home
    with home.catalog.session() as session:
        file = session.get(File, file_id)
        if file is None or file.tenant_id != owner.tenant_id:
            raise NotFound(f"No such File object: {file_id}", param="file_id")
        return _file_object(file)


@router.get("/jobs/{job_id}")
def get_job_status(job_id: str, request: Request, owner: Owner) -> dict[str, Any]:
    return _job_object(get_job(request.app.state.home, job_id, owner.tenant_id))


@router.get("/jobs/{job_id}/events")
def get_job_events(job_id: str, request: Request, owner: Owner) -> dict[str, Any]:
    home: Home = request.app.state.home
    get_job(home, job_id, owner.tenant_id)  # 404 for another tenant's job
    return {"object": "list", "data": [
        {"object": "job.event", "id": e.id, "created_at": int(e.created_at.timestamp()), "level": e.level,
         "message": e.message, "data": e.data} for e in job_events(home, job_id)]}
