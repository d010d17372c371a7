"""Jobs: submit, list, read, trials, cancel, live events."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

from fastapi import APIRouter, Depends, Query
from fastapi.responses import StreamingResponse

from tuneforge.api.deps import settings_of, store_of
from tuneforge.api.schemas import ErrorBody, JobCreated, JobRequest
from tuneforge.api.submit import submit_job
from tuneforge.core.settings import Settings
from tuneforge.core.types import JobStatus
from tuneforge.db.store import JobStore

router = APIRouter(prefix="/api/v1/jobs", tags=["jobs"])
EVENT_POLL_S = 0.5


@router.post("", status_code=201, response_model=JobCreated,
             responses={400: {"model": ErrorBody, "description": "the request names what to change"}})
def create_job(body: JobRequest, settings: Settings = Depends(settings_of)) -> JobCreated:
    request = body.model_dump()
    job_id = submit_job(settings, request)
    return JobCreated(id=job_id, status=JobStatus.QUEUED.value, url=f"/api/v1/jobs/{job_id}")


@router.get("")
def list_jobs(status: str | None = None, target: str | None = None, limit: int = Query(50, ge=1, le=500),
              offset: int = Query(0, ge=0), store: JobStore = Depends(store_of)) -> list[dict[str, Any]]:
    return store.list_jobs(status=status, target=target, limit=limit, offset=offset)


@router.get("/{job_id}", responses={404: {"model": ErrorBody}})
def get_job(job_id: str, store: JobStore = Depends(store_of)) -> dict[str, Any]:
    return store.get_job(job_id)


@router.get("/{job_id}/trials")
def get_trials(job_id: str, after: int = -1, limit: int | None = Query(None, ge=1),
               store: JobStore = Depends(store_of)) -> list[dict[str, Any]]:
    store.get_job(job_id)  # 404 for an unknown job, not an empty list
    return store.trials(job_id, after=after, limit=limit)


@router.post("/{job_id}/cancel")
def cancel_job(job_id: str, store: JobStore = Depends(store_of)) -> dict[str, Any]:
    return store.cancel_job(job_id)


@router.get("/{job_id}/events")
async def job_events(job_id: str, store: JobStore = Depends(store_of)) -> StreamingResponse:
    """Server-sent events: ``trial`` per stored trial, ``progress`` after new trials, ``status`` on every
    change, then ``end``."""
    store.get_job(job_id)

    async def stream() -> AsyncIterator[str]:
        last_number, last_status = -1, None
        while True:
            job = await asyncio.to_thread(store.get_job, job_id)
            new_trials = await asyncio.to_thread(store.trials, job_id, after=last_number)
            for trial in new_trials:
                last_number = trial["number"]
                yield _event("trial", trial)
            if new_trials:
                yield _event("progress", {"n_trials": last_number + 1, "budget_trials": job["budget_trials"],
                                          "best_value": job["best_value"]})
            if job["status"] != last_status:
                last_status = job["status"]
                yield _event("status", {k: job[k] for k in ("id", "status", "n_trials", "budget_trials",
                                                            "best_value", "error")})
            if JobStatus(job["status"]).finished:
                yield _event("end", {"status": job["status"]})
                return
            await asyncio.sleep(EVENT_POLL_S)

    return StreamingResponse(stream(), media_type="text/event-stream",
                             headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})


def _event(name: str, data: dict[str, Any]) -> str:
    return f"event: {name}\ndata: {json.dumps(data, default=str)}\n\n"
