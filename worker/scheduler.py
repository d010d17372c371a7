"""Runs job loops: claims queued jobs, and running ones whose process stopped heart-beating, and
runs each one's loop in a thread of its own.

A loop only proposes candidates and waits for their results, so it takes no evaluation slot:
``tuneforge scheduler`` (distributed mode) runs up to ``scheduler_jobs`` of them on Celery
workers; ``tuneforge serve`` in embedded mode runs one at a time on a local process pool.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import datetime, timedelta, timezone

from tuneforge.core.settings import Settings
from tuneforge.core.types import JobStatus
from tuneforge.db.records import JobRecord
from tuneforge.db.store import JobStore
from tuneforge.search.runner import EvaluationRunner
from tuneforge.worker.jobs import run_job, runner_factory
from tuneforge.worker.owner import OWNER

log = logging.getLogger(__name__)


class JobScheduler:
    def __init__(self, settings: Settings, *, max_jobs: int, runner: Callable[[], EvaluationRunner] | None = None,
                 poll_s: float = 0.5, owner: str = OWNER) -> None:
        self.settings = settings
        self.store = JobStore(settings.database_url)
        self.max_jobs = max_jobs
        self.new_runner = runner or runner_factory(settings)
        self.poll_s = poll_s
        self.owner = owner
        self.stopping = threading.Event()
        self.active: dict[str, threading.Thread] = {}
        self._thread = threading.Thread(target=self.serve, name="tuneforge-scheduler", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        """Stop claiming, end every loop at its next step, and hand their jobs on."""
        self.stopping.set()
        if self._thread.is_alive():
            self._thread.join(timeout)
        for thread in list(self.active.values()):
            thread.join(timeout)

    def serve(self) -> None:
        while not self.stopping.is_set():
            try:
                self.active = {j: t for j, t in self.active.items() if t.is_alive()}
                job_id = self._next_job() if len(self.active) < self.max_jobs else None
            except Exception:  # the database is away: try again shortly
                log.exception("scheduler could not look for jobs")
                job_id = None
            if job_id is None:
                self.stopping.wait(self.poll_s)
                continue
            thread = threading.Thread(target=self._run, args=(job_id,), name=f"job-{job_id}", daemon=True)
            self.active[job_id] = thread
            thread.start()

    def _next_job(self) -> str | None:
        # Oldest first; running jobs whose process died (stale lease) are resumed too.
        stale = datetime.now(timezone.utc) - timedelta(seconds=self.settings.lease_s)
        for status in (JobStatus.RUNNING, JobStatus.QUEUED):
            for job in reversed(self.store.list_jobs(status=status.value, limit=100)):
                if job.id in self.active or (status == JobStatus.RUNNING and not _lease_gone(job, stale)):
                    continue
                if self.store.claim_job(job.id, self.owner, self.settings.lease_s):
                    return job.id
        return None

    def _run(self, job_id: str) -> None:
        runner = self.new_runner()
        try:
            run_job(job_id, self.settings, runner, owner=self.owner, shutdown=self.stopping)
        except Exception:
            log.exception("job %s: loop error", job_id)
        finally:
            runner.close()


def _lease_gone(job: JobRecord, stale: datetime) -> bool:
    return job.heartbeat_at is None or job.heartbeat_at < stale
