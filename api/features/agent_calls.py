"""``GET /api/v1/jobs/{id}/agent-calls``: every LLM call of a job with what became of its proposals;
``GET /api/v1/knowledge/{target}``: what worked for the target's family, as agents read it."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, FastAPI, Path, Query

from tuneforge.agents.knowledge import Knowledge, distill
from tuneforge.api.auth import Principal, require
from tuneforge.api.deps import store_of
from tuneforge.api.schemas import COMMON, AgentCallPublic, errors
from tuneforge.core.errors import NotFoundError
from tuneforge.db.agent_calls import AgentCallStore
from tuneforge.db.records import AgentCallRecord
from tuneforge.db.knowledge import family_of, knowledge_rows
from tuneforge.db.store import JobStore

router = APIRouter(prefix="/api/v1", tags=["agents"], responses=errors(404, *COMMON))


def target_knowledge(url: str, target: str, device: str | None) -> Knowledge:
    from tuneforge.kernels.registry import all_targets

    known = all_targets().get(target)
    family = known.family if known else family_of(url, target)
    if family is None:
        raise NotFoundError(f"no target {target!r} is registered or has been tuned; `tuneforge targets` lists them")
    best, trials = knowledge_rows(url, family=family, device=device)
    return distill(best, trials, family=family, device=device)


@router.get("/jobs/{job_id}/agent-calls", response_model=list[AgentCallPublic])
def agent_calls(job_id: str = Path(..., min_length=1, max_length=32), store: JobStore = Depends(store_of),
                who: Principal = Depends(require("read"))) -> list[AgentCallRecord]:
    """A job's transcripts (prompts included) are its account's: another account gets 404."""
    store.get_job(job_id, who.sees)  # 404 for an unknown job or another account's
    return AgentCallStore(store.url).calls(job_id)


@router.get("/knowledge/{target}", dependencies=[Depends(require("read"))])
def knowledge(target: str = Path(..., min_length=1, max_length=128),
              device: str | None = Query(None, max_length=160, description="only results from this device"),
              store: JobStore = Depends(store_of)) -> dict[str, Any]:
    found = target_knowledge(store.url, target, device)
    return {**found.to_dict(), "text": found.to_text(first=target)}


def setup(app: FastAPI) -> None:
    app.include_router(router)
