"""Leases of the jobs this process runs: renewed, and watched for a cancel or a takeover.

One thread per process does it for all of them (``LeaseMonitor``), with one query per check for every
job it holds, instead of a thread and a query per job: a scheduler running 64 loops asks the database
twice a second, not 128 times.
"""

from __future__ import annotations

import logging
import threading
import time

from tuneforge.core.types import JobStatus
from tuneforge.db.store import JobStore

log = logging.getLogger(__name__)
CHECK_S = 0.5  # how soon a cancel, or the loss of the lease, stops the loop


class LeaseWatch:
    """One job's view: ``ended`` once it was cancelled, taken over, or this process is stopping."""

    def __init__(self, store: JobStore, job_id: str, owner: str, lease_s: float,
                 shutdown: threading.Event | None = None) -> None:
        self.store, self.job_id, self.owner, self.lease_s = store, job_id, owner, lease_s
        self.cancelled = threading.Event()
        self.lost = threading.Event()
        self.shutdown = shutdown or threading.Event()  # this process is stopping: hand the job on

    @property
    def ended(self) -> bool:
        return self.cancelled.is_set() or self.lost.is_set() or self.shutdown.is_set()

    def start(self) -> None:
        _monitor_for(self.store, self.owner, self.lease_s).add(self)

    def stop(self) -> None:
        _monitor_for(self.store, self.owner, self.lease_s).remove(self)

    def seen(self, status: str | None) -> None:
        """What the database says now: the job's status, or None when this owner lost it."""
        if status is None:
            self.lost.set()
        elif status == JobStatus.CANCELLED.value:
            self.cancelled.set()


class LeaseMonitor:
    """Renews the leases of its watches every ``lease_s / 3`` and reads their statuses every ``CHECK_S``;
    its thread runs while it has watches."""

    def __init__(self, store: JobStore, owner: str, lease_s: float) -> None:
        self.store, self.owner, self.lease_s = store, owner, lease_s
        self._watches: dict[str, LeaseWatch] = {}
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    def add(self, watch: LeaseWatch) -> None:
        with self._lock:
            self._watches[watch.job_id] = watch
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name=f"leases-{self.owner}", daemon=True)
                self._thread.start()

    def remove(self, watch: LeaseWatch) -> None:
        with self._lock:
            if self._watches.get(watch.job_id) is watch:
                del self._watches[watch.job_id]

    def watching(self, job_id: str) -> LeaseWatch | None:
        with self._lock:
            return self._watches.get(job_id)

    def _run(self) -> None:
        renewed = time.monotonic()
        while True:
            time.sleep(min(CHECK_S, self.lease_s / 3))
            with self._lock:
                watches = dict(self._watches)
                if not watches:
                    self._thread = None  # the next add starts a new one
                    return
            renew = time.monotonic() - renewed >= self.lease_s / 3
            try:
                if renew:
                    statuses = self.store.renew_leases(list(watches), self.owner)
                    renewed = time.monotonic()
                else:
                    statuses = self.store.lease_statuses(list(watches), self.owner)
            except Exception:  # a transient database error must not kill the jobs
                log.warning("lease check for %d jobs failed", len(watches), exc_info=True)
                continue
            for job_id, watch in watches.items():
                watch.seen(statuses.get(job_id))


_monitors: dict[tuple[str, str, float], LeaseMonitor] = {}
_monitors_lock = threading.Lock()


def _monitor_for(store: JobStore, owner: str, lease_s: float) -> LeaseMonitor:
    with _monitors_lock:
        key = (store.url, owner, lease_s)
        if key not in _monitors:
            _monitors[key] = LeaseMonitor(store, owner, lease_s)
        return _monitors[key]


def notify_cancelled(job_id: str) -> None:
    """A cancel this process stored reaches its own loop for the job at once (a loop elsewhere sees
    it at its next check, within ``CHECK_S``)."""
    with _monitors_lock:
        monitors = list(_monitors.values())
    for monitor in monitors:
        if (watch := monitor.watching(job_id)) is not None:
            watch.cancelled.set()
