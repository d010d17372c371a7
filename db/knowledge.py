"""The rows the knowledge base is distilled from: best configs and trials of one target family."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from tuneforge.db.models import Job, Trial
from tuneforge.db.session import session_scope
from tuneforge.db.store import JobStore


def family_of(url: str, target: str) -> str | None:
    """The family of a target that jobs have tuned (replay targets live in no registry)."""
    with session_scope(url) as s:
        return s.scalars(select(Job.family).where(Job.target == target).limit(1)).first()


def knowledge_rows(url: str, *, family: str, device: str | None = None,
                   limit: int = 5000) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(best configs, recent trials) of ``family`` on ``device`` (every device when None)."""
    best = JobStore(url).best_configs(family=family, device=device)
    with session_scope(url) as s:
        query = (select(Trial, Job.target, Job.device, Job.problem_key).join(Job, Trial.job_id == Job.id)
                 .where(Job.family == family).order_by(Trial.id.desc()).limit(limit))
        if device:
            query = query.where(Job.device == device)
        trials = [{"target": target, "device": dev, "problem_key": problem_key, "number": t.number,
                   "params": t.params, "status": t.status, "values": t.values, "feasible": t.feasible,
                   "origin": t.origin, "note": t.note, "log": t.log, "has_source": t.source is not None}
                  for t, target, dev, problem_key in s.execute(query)]
    return best, trials
