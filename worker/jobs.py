"""Running a job's tuning loop: in this process (embedded) or in a Celery worker (distributed)."""

from __future__ import annotations

import time
from typing import Any

from tuneforge.core.settings import Settings, get_settings
from tuneforge.core.types import JobStatus
from tuneforge.db.store import JobStore
from tuneforge.search.loop import TrialCallback, TuningLoop
from tuneforge.worker.local_pool import LocalPoolEvaluator
from tuneforge.worker.owner import OWNER


def run_job_embedded(job_id: str, settings: Settings, on_trial: TrialCallback | None = None) -> dict[str, Any] | None:
    evaluator = LocalPoolEvaluator(settings)
    try:
        return TuningLoop(JobStore(settings.database_url), settings, evaluator, owner=OWNER,
                          on_trial=on_trial).run(job_id)
    finally:
        evaluator.close()


def run_job_distributed(job_id: str) -> str | None:
    """Run the job; when another live worker holds it, wait until it ends or its lease goes stale
    (so a redelivered task neither runs the job twice nor lets it die with its first worker)."""
    from tuneforge.worker.celery_app import app_for
    from tuneforge.worker.distributed import CeleryEvaluator

    settings = get_settings()
    store = JobStore(settings.database_url)
    loop = TuningLoop(store, settings, CeleryEvaluator(app_for(settings), settings), owner=OWNER)
    while True:
        if JobStatus(store.get_job(job_id)["status"]).finished:
            return store.get_job(job_id)["status"]
        job = loop.run(job_id)
        if job is not None:
            return job["status"]
        time.sleep(settings.lease_s / 3)
