"""Best configs written through the store's own calls, as a finished job would leave them.

Used where no device can tune the target here (a GPU's numbers) or where a test needs exact values.
"""

from __future__ import annotations

from tuneforge.core.settings import Settings
from tuneforge.core.types import JobStatus, Objective, Problem, Provenance, TrialResult, TrialStatus, Candidate
from tuneforge.db.store import JobStore
from tuneforge.search.jobspec import JobSpec
from tuneforge.search.provenance import versions
from tuneforge.search.results import summarize

TIME = Objective("time_ms", "minimize")


def seed_best(settings: Settings, *, target: str, family: str = "triton", dims: dict[str, int], dtype: str | None,
              device: str, device_name: str, params: dict, time_ms: float, provenance: str,
              baseline_ms: float | None = None, strategy: str = "tpe", extra_metrics: dict | None = None) -> str:
    """One finished job with one ok trial that became the best config of (target, problem, device)."""
    store = JobStore(settings.database_url)
    spec = JobSpec(target=target, family=family, problem=Problem(dims=dims, dtype=dtype), device=device,
                   strategy=strategy, objectives=[TIME], constraints=[], budget_trials=1, budget_seconds=None,
                   parallelism=1, seed=0)
    job_id = store.create_job(spec)
    result = TrialResult(status=TrialStatus.OK, metrics={"time_ms": time_ms, **(extra_metrics or {})},
                         provenance=Provenance(provenance), device_name=device_name, cost_s=time_ms / 1000)
    if baseline_ms is not None:
        store.set_baseline(job_id, TrialResult(status=TrialStatus.OK, metrics={"time_ms": baseline_ms},
                                               provenance=Provenance(provenance), device_name=device_name).to_dict())
    store.record_trial(job_id, 0, Candidate(params=params), result, values=[time_ms], feasible=True, better=True,
                       worker="seed")
    job, trials = store.get_job(job_id), store.trials(job_id)
    store.finish_job(job_id, None, JobStatus.SUCCEEDED, result=summarize(job, trials))
    store.upsert_best(job=store.get_job(job_id), trial=trials[0], objective=TIME, versions=versions())
    return job_id
