"""Running one job's tuning loop: the one entry for the CLI, the server and the scheduler."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from tuneforge.core.settings import Settings
from tuneforge.db.store import JobStore
from tuneforge.search.loop import SlotShare, TrialCallback, TuningLoop
from tuneforge.search.runner import EvaluationRunner
from tuneforge.worker.owner import OWNER


def run_job(job_id: str, settings: Settings, runner: EvaluationRunner, *, on_trial: TrialCallback | None = None,
            owner: str = OWNER, shutdown: threading.Event | None = None,
            share: SlotShare | None = None) -> dict[str, Any] | None:
    """Run (or resume) a job to its end; None when another process holds it or this one is stopping.
    ``share``: the job's cap on candidates in flight, when slots are shared with other jobs."""
    return TuningLoop(JobStore(settings.database_url), settings, runner, owner=owner, on_trial=on_trial,
                      shutdown=shutdown, share=share).run(job_id)


def runner_factory(settings: Settings) -> Callable[[], EvaluationRunner]:
    """Where a job's candidates go in this mode: Celery queues when a broker is set, else a local pool."""
    if settings.distributed:
        from tuneforge.worker.celery_runner import CeleryRunner

        shared = CeleryRunner(settings)  # holds no per-job state: every loop of the process shares it
        return lambda: shared
    from tuneforge.worker.local_pool import LocalPoolRunner

    return lambda: LocalPoolRunner(settings)


def run_job_embedded(job_id: str, settings: Settings, on_trial: TrialCallback | None = None) -> dict[str, Any] | None:
    """Run a job here and now on a local process pool (``tuneforge tune``)."""
    from tuneforge.worker.local_pool import LocalPoolRunner

    runner = LocalPoolRunner(settings)
    try:
        return run_job(job_id, settings, runner, on_trial=on_trial)
    finally:
        runner.close()
