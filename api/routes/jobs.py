"""Jobs: submit, list, read, trials, cancel, live events. A job belongs to the account that submitted
it: other accounts get 404 (admin keys see every job)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import StreamingResponse

from tuneforge.api.auth import Principal, require
from tuneforge.api.deps import settings_of, store_of
from tuneforge.api.quotas import admission
from tuneforge.api.schemas import (COMMON, INT32_MAX, JobCreate, JobCreated, JobPublic, JobStatusName, TrialPublic,
                                   errors, public)
from tuneforge.api.submit import submit_job
from tuneforge.core.settings import Settings
from tuneforge.core.types import JobStatus
from tuneforge.db.accounts import KeyStore
from tuneforge.db.records import JobRecord, TrialRecord
from tuneforge.db.store import JobStore
from tuneforge.search.lease import notify_cancelled

router = APIRouter(prefix="/api/v1/jobs", tags=["jobs"])
EVENT_POLL_S = 0.5
MAX_TRIALS_PAGE = 1000
def _job_id():
    return Path(..., min_length=1, max_length=32, pattern=r"^[A-Za-z0-9_-]+$")


@router.post("", status_code=201, response_model=JobCreated, responses=errors(400, *COMMON))
def create_job(body: JobCreate, settings: Settings = Depends(settings_of),
               who: Principal = Depends(require("submit"))) -> JobCreated:
    job_id = submit_job(settings, body.model_dump(), account=who.owns,
                        key_name=who.key_name if who.key_id is not None else None,
                        admit=admission(settings, who, body.trials))
    KeyStore(settings.database_url).audit(who.account, who.key_name, "job.submit", job_id)
    return JobCreated(id=job_id, status=JobStatus.QUEUED.value, url=f"/api/v1/jobs/{job_id}")


@router.get("", response_model=list[JobPublic], responses=errors(*COMMON))
def list_jobs(status: JobStatusName | None = None,
              target: str | None = Query(None, min_length=1, max_length=128),
              limit: int = Query(50, ge=1, le=500), offset: int = Query(0, ge=0, le=INT32_MAX),
              store: JobStore = Depends(store_of), who: Principal = Depends(require("read"))) -> list[JobRecord]:
    return store.list_jobs(status=status, target=target, limit=limit, offset=offset, account=who.sees)


@router.get("/{job_id}", response_model=JobPublic, responses=errors(404, *COMMON))
def get_job(job_id: str = _job_id(), store: JobStore = Depends(store_of),
            who: Principal = Depends(require("read"))) -> JobRecord:
    return store.get_job(job_id, who.sees)


@router.get("/{job_id}/trials", response_model=list[TrialPublic], responses=errors(404, *COMMON))
def get_trials(job_id: str = _job_id(), after: int = Query(-1, ge=-1, le=INT32_MAX,
                                                       description="only trials numbered after this one"),
               limit: int = Query(MAX_TRIALS_PAGE, ge=1, le=MAX_TRIALS_PAGE,
                                  description="page size; page on with after=<last number>"),
               store: JobStore = Depends(store_of), who: Principal = Depends(require("read"))) -> list[TrialRecord]:
    store.get_job(job_id, who.sees)  # 404 for an unknown job, not an empty list
    return store.trials(job_id, after=after, limit=limit)


@router.post("/{job_id}/cancel", response_model=JobPublic, responses=errors(404, 409, *COMMON))
def cancel_job(job_id: str = _job_id(), store: JobStore = Depends(store_of),
               who: Principal = Depends(require("cancel"))) -> JobRecord:
    job = store.cancel_job(job_id, who.sees)
    notify_cancelled(job_id)  # an embedded server's own loop stops now, not at its next check
    KeyStore(store.url).audit(who.account, who.key_name, "job.cancel", job_id)
    return job


@router.get("/{job_id}/events", responses={200: {"content": {"text/event-stream": {}},
                                                 "description": "the job's trials and status as they happen"},
                                           **errors(404, *COMMON)})
async def job_events(request: Request, job_id: str = _job_id(), store: JobStore = Depends(store_of),
                     who: Principal = Depends(require("read"))) -> StreamingResponse:
    """Server-sent events: ``trial`` per stored trial, ``progress`` after new trials, ``status`` on every
    change, then ``end``. Each key holds a bounded number of streams at once (429 beyond)."""
    await asyncio.to_thread(store.get_job, job_id, who.sees)
    slots, slot = request.app.state.auth.streams, who.limit_key
    slots.acquire(slot)

    async def stream() -> AsyncIterator[str]:
        try:
            last_number, last_status = -1, None
            while True:
                job = await asyncio.to_thread(store.get_job, job_id)
                new_trials = await asyncio.to_thread(store.trials, job_id, after=last_number, limit=MAX_TRIALS_PAGE)
                for trial in new_trials:
                    last_number = trial.number
                    yield _event("trial", public(TrialPublic, trial))
                if new_trials:
                    yield _event("progress", {"n_trials": last_number + 1, "budget_trials": job.budget_trials,
                                              "best_value": job.best_value})
                if job.status != last_status:
                    last_status = job.status
                    yield _event("status", {k: getattr(job, k) for k in ("id", "status", "n_trials", "budget_trials",
                                                                "best_value", "error")})
                if job.finished and len(new_trials) < MAX_TRIALS_PAGE:
                    yield _event("end", {"status": job.status})
                    return
                if len(new_trials) < MAX_TRIALS_PAGE:
                    await asyncio.sleep(EVENT_POLL_S)
        finally:
            slots.release(slot)

    return StreamingResponse(stream(), media_type="text/event-stream",
                             headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})


def _event(name: str, data: dict[str, Any]) -> str:
    return f"event: {name}\ndata: {json.dumps(data, default=str)}\n\n"
