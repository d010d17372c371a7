"""Where a job's transfer sources come from (the job store) and where their weights go.

A source is everything stored for the job's target on one other (problem, device): the
trials of every job there, merged. Jobs on the job's own (problem, device) are left out,
as warm start leaves them out, so a rerun with the same seed repeats its trials. Only jobs
whose first objective is the job's own (same metric and direction) can say anything
about it. ``options={"transfer": false}`` turns transfer off.
"""

from __future__ import annotations

from dataclasses import asdict

from tuneforge.core.types import Objective
from tuneforge.db.records import JobRecord, TrialRecord
from tuneforge.db.store import JobStore
from tuneforge.search.strategies._base import Strategy, StrategyContext
from tuneforge.search.transfer import SourceHistory

# The most recent jobs of a target that are read for sources.
MAX_SOURCE_JOBS = 200


def database_sources(store: JobStore, job: JobRecord, ctx: StrategyContext) -> list[SourceHistory]:
    if not ctx.options.get("transfer", True):
        return []
    objective = ctx.objectives[0]
    groups: dict[tuple[str, str], list[TrialRecord]] = {}
    for other in store.list_jobs(target=job.target, limit=MAX_SOURCE_JOBS):
        place = (other.problem_key, other.device)
        if place == (job.problem_key, job.device) or not other.objectives:
            continue
        if Objective(**other.objectives[0]) != objective:
            continue
        groups.setdefault(place, []).extend(store.trials(other.id))
    return [SourceHistory.from_trials(f"{problem_key} on {device}", trials, objective.direction)
            for (problem_key, device), trials in sorted(groups.items()) if trials]


def record_transfer(store: JobStore, job_id: str, strategy: Strategy) -> None:
    """Store the sources' current weights on the job when they changed."""
    report = [asdict(w) for w in strategy.transfer_report()]
    if report and report != strategy.transfer_recorded:
        store.set_transfer(job_id, report)
        strategy.transfer_recorded = report
