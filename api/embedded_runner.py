"""Embedded mode's job runner: a thread of ``tuneforge serve`` that runs queued jobs one by one."""

from __future__ import annotations

import logging
import threading

from tuneforge.core.settings import Settings
from tuneforge.core.types import JobStatus
from tuneforge.db.store import JobStore

log = logging.getLogger(__name__)


class EmbeddedRunner:
    def __init__(self, settings: Settings, poll_s: float = 0.5) -> None:
        self.settings = settings
        self.store = JobStore(settings.database_url)
        self.poll_s = poll_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="tuneforge-embedded-runner", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def _next_job(self, owner: str) -> str | None:
        # Oldest first; running jobs whose worker died (stale lease) are resumed too.
        for status in (JobStatus.RUNNING, JobStatus.QUEUED):
            for job in reversed(self.store.list_jobs(status=status.value, limit=100)):
                if self.store.claim_job(job["id"], owner, self.settings.lease_s):
                    return job["id"]
        return None

    def _run(self) -> None:
        from tuneforge.worker.jobs import run_job_embedded
        from tuneforge.worker.owner import OWNER

        while not self._stop.is_set():
            try:
                job_id = self._next_job(OWNER)
                if job_id is None:
                    self._stop.wait(self.poll_s)
                    continue
                run_job_embedded(job_id, self.settings)
            except Exception:
                log.exception("embedded runner error")
                self._stop.wait(self.poll_s)
