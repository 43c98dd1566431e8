"""Files and jobs over HTTP: `POST /v1/files` (purpose `knowledge`) stores the upload (refused over the
cap before anything is kept) and queues its ingest; `GET /v1/jobs/{id}` shows live progress;
`GET /v1/files[/{id}]` reports each file's status and why it was rejected; `DELETE` removes it
from every later corpus version and lists what was derived from it."""

from __future__ import annotations

from fastapi import APIRouter, Form, UploadFile
from fastapi.responses import StreamingResponse

from ownllm.errors import InvalidInput, NotFound
from ownllm.jobs.tracker import get_job, job_events
from ownllm.serve.auth import FilesOwner
from ownllm.serve.deps import HomeDep, RuntimeDep
from ownllm.serve.protocol import (
    DeletedFileObject,
    EventList,
    FileList,
    FileObject,
    JobEventObject,
    JobObject,
    JobProgress,
)
from ownllm.services.datafiles import DATA_PURPOSES, accept_data_file, file_content
from ownllm.services.ingestion import accept_upload, delete_file
from ownllm.store.catalog import File, Job
from ownllm.store.statuses import FileStatus

router = APIRouter(prefix="/v1")
_OPENAI_STATUS = {FileStatus.PARSED: "processed", FileStatus.DUPLICATE: "processed",
                  FileStatus.EXPANDED: "processed", FileStatus.FAILED: "error", FileStatus.UNSUPPORTED: "error"}


def file_object(file: File, job_id: str | None = None) -> FileObject:
    return FileObject(
        id=file.id, bytes=file.size, created_at=int(file.created_at.timestamp()), filename=file.original_name,
        purpose=file.purpose or "knowledge",
        status="deleted" if file.deleted_at else _OPENAI_STATUS.get(file.status, "uploaded"),
        status_details=file.error, detected_type=file.detected_type, flags=file.flags or [], job_id=job_id)


def job_object(job: Job) -> JobObject:
    return JobObject(id=job.id, kind=job.kind, status=job.status, stage=job.stage, current_item=job.current_item,
                     progress=JobProgress(done=job.progress_done, total=job.progress_total),
                     created_at=int(job.created_at.timestamp()), result=job.result or None, error=job.error)


@router.post("/files")
def upload_file(owner: FilesOwner, runtime: RuntimeDep, file: UploadFile, purpose: str = Form(...)) -> FileObject:
    """`knowledge` files are ingested into the corpus; `fine-tune` and `batch` JSONL is checked line by line."""
    if purpose in DATA_PURPOSES:
        return file_object(accept_data_file(runtime.home, owner.tenant_id, file.filename, file.file, purpose))
    if purpose != "knowledge":
        raise InvalidInput(f"purpose {purpose[:40]!r} is not supported; use knowledge, fine-tune or batch",
                           param="purpose")
    accepted = accept_upload(runtime, owner.tenant_id, file.filename, file.file)
    return file_object(accepted.file, accepted.job_id)


@router.get("/files/{file_id}/content")
def download_file(file_id: str, owner: FilesOwner, home: HomeDep) -> StreamingResponse:
    file, stream = file_content(home, owner.tenant_id, file_id)
    return StreamingResponse(iter(lambda: stream.read(1 << 16), b""), media_type="application/octet-stream",
                             headers={"Content-Disposition": f'attachment; filename="{file.original_name}"'})


@router.get("/files")
def list_uploaded_files(owner: FilesOwner, home: HomeDep) -> FileList:
    from sqlalchemy import select

    with home.catalog.session() as session:
        files = session.scalars(select(File).where(File.tenant_id == owner.tenant_id).order_by(File.created_at))
        return FileList(data=[file_object(f) for f in files])


def _own_file(home: HomeDep, tenant_id: str, file_id: str) -> File:
    with home.catalog.session() as session:
        file = session.get(File, file_id)
        if file is None or file.tenant_id != tenant_id:
            raise NotFound(f"No such File object: {file_id}", param="file_id")
        return file


@router.get("/files/{file_id}")
def get_file(file_id: str, owner: FilesOwner, home: HomeDep) -> FileObject:
    return file_object(_own_file(home, owner.tenant_id, file_id))


@router.delete("/files/{file_id}")
def remove_file(file_id: str, owner: FilesOwner, home: HomeDep) -> DeletedFileObject:
    deleted = delete_file(home, owner.tenant_id, file_id)
    return DeletedFileObject(id=file_id, derived={
        "documents": deleted.documents, "chunks": deleted.chunks, "corpus_versions": deleted.corpus_versions,
        "new_corpus_version": deleted.new_version, "datasets": deleted.datasets,
        "fine_tuned_models": deleted.tuned_models, "bytes_removed": deleted.bytes_removed})


@router.get("/jobs/{job_id}")
def get_job_status(job_id: str, owner: FilesOwner, home: HomeDep) -> JobObject:
    return job_object(get_job(home, job_id, owner.tenant_id))


@router.get("/jobs/{job_id}/events")
def get_job_events(job_id: str, owner: FilesOwner, home: HomeDep) -> EventList:
    get_job(home, job_id, owner.tenant_id)  # 404 for another tenant's job
    return EventList(data=[JobEventObject(id=e.id, created_at=int(e.created_at.timestamp()), level=e.level,
                                          type=e.type, message=e.message, data=e.data)
                           for e in job_events(home, job_id)])
