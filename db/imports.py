"""Measured results from other tools stored as one finished job: all its trials in one transaction."""

from __future__ import annotations

from typing import Any

from sqlalchemy import update

from tuneforge.core.types import Candidate, TrialResult
from tuneforge.db.models import Job, Trial
from tuneforge.db.session import session_scope


def store_imported_trials(url: str, job_id: str, trials: list[tuple[Candidate, TrialResult, list[float] | None]]
                          ) -> None:
    """Every trial or none; the job's counters and best follow in the same transaction."""
    best: tuple[float, int] | None = None
    with session_scope(url) as s:
        for number, (candidate, result, values) in enumerate(trials):
            s.add(Trial(job_id=job_id, number=number, params=candidate.params, source=None, origin=candidate.origin,
                        note=candidate.note, status=result.status.value, metrics=result.metrics, values=values,
                        feasible=values is not None, provenance=result.provenance.value,
                        device_name=result.device_name, cost_s=0.0, timings=result.timings, log=result.log,
                        worker="import"))
            if values and (best is None or values[0] < best[0]):
                best = (values[0], number)
        changes: dict[str, Any] = {"n_trials": len(trials)}
        if best is not None:
            changes.update(best_value=best[0], best_trial=best[1])
        s.execute(update(Job).where(Job.id == job_id).values(**changes))
