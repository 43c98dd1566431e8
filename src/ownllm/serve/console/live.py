"""Live job panels over server-sent events: the server re-renders a job's panel whenever the job row or its
events change (polled from the catalog, which every worker process writes), and the page swaps it in. The
stream ends when the job does; a browser that reconnects gets the current state first."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator

from fastapi import APIRouter, Request
from fastapi.responses import StreamingResponse
from sqlalchemy import func, select
from starlette.concurrency import run_in_threadpool

from ownllm.serve.console.pages import User, job_panel_context, own_job, tenant_user
from ownllm.serve.console.render import fragment
from ownllm.serve.console.session import ConsoleUser, SignedOut, current_user
from ownllm.store.catalog import Job, JobEvent
from ownllm.store.statuses import TERMINAL_JOB_STATUSES

router = APIRouter(prefix="/console", include_in_schema=False)
POLL_S = 0.5
MAX_STREAM_S = 6 * 3600
RECHECK_EVERY = 20  # polls: the session is re-checked every 10 s


def _state(request: Request, job_id: str) -> tuple[object, ...]:
    """What changes when a panel must be redrawn: status, progress, stage, item, last event."""
    with request.app.state.runtime.home.catalog.session() as session:
        job = session.get(Job, job_id)
        last = session.scalar(select(func.max(JobEvent.id)).where(JobEvent.job_id == job_id))
        if job is None:
            return ()
        return job.status, job.progress_done, job.progress_total, job.stage, job.current_item, last


def _panel(request: Request, user: ConsoleUser, job_id: str) -> str:
    return fragment("job_panel.html", user, **job_panel_context(request, user, job_id))


async def _events(request: Request, user: ConsoleUser, job_id: str) -> AsyncIterator[str]:
    seen: tuple[object, ...] | None = None
    loop = asyncio.get_running_loop()
    deadline = loop.time() + MAX_STREAM_S
    polls = 0
    while loop.time() < deadline and not await request.is_disconnected():
        polls += 1
        if polls % RECHECK_EVERY == 0:  # a key revoked while the page is open ends the stream too
            try:
                await run_in_threadpool(current_user, request)
            except SignedOut:
                yield "event: end\ndata: {}\n\n"
                return
        state = await run_in_threadpool(_state, request, job_id)
        if state != seen:
            seen = state
            html = await run_in_threadpool(_panel, request, user, job_id)
            yield f"event: panel\ndata: {json.dumps({'html': html})}\n\n"
            if state and state[0] in TERMINAL_JOB_STATUSES:
                yield "event: end\ndata: {}\n\n"
                return
        await asyncio.sleep(POLL_S)


@router.get("/jobs/{job_id}/live")
def job_live(job_id: str, request: Request, user: User) -> StreamingResponse:
    tenant_user(user)
    own_job(request, user, job_id)  # another tenant's job: 404 before the stream starts
    return StreamingResponse(_events(request, user, job_id), media_type="text/event-stream",
                             headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})
