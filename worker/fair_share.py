"""Evaluation slots shared fairly: first among the accounts with running jobs, then among each
account's jobs, instead of in proportion to the parallelism each job asks for.

Every job loop keeps at most its share of candidates in flight (``TuningLoop``'s ``share``). A
queue's live slots are the concurrency its workers announce in their heartbeats; the running jobs
are read from the database, so every scheduler process computes the same shares.

The split is max-min fair ("water filling"): whoever wants less than an equal part keeps what it
wants and the rest is split among the others. Every job keeps at least one slot, so none stalls
while more jobs run than there are slots.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections import defaultdict
from collections.abc import Hashable
from dataclasses import dataclass

from tuneforge.core.settings import Settings
from tuneforge.db.store import JobStore
from tuneforge.evaluators.registry import resolve_device
from tuneforge.worker.availability import live_workers_by_queue, slots
from tuneforge.worker.celery_app import eval_queue

log = logging.getLogger(__name__)
REFRESH_S = 1.0  # how stale a loop's share may be
# A job keeps up to this many candidates in flight per slot of its share: a slot that frees up finds
# the next task already queued instead of idling through the loop's round trip, and the queue still
# holds the jobs' tasks in the proportions of their shares.
IN_FLIGHT_PER_SLOT = 2
MAX_RUNNING = 10_000  # running jobs read per refresh


@dataclass(frozen=True)
class Demand:
    job_id: str
    account: str | None
    wants: int  # the job's parallelism


def water_fill(capacity: int, wants: dict[Hashable, int]) -> dict[Hashable, int]:
    """A max-min fair integer split of ``capacity``; when fewer units than claimants remain, the
    first claimants in ``wants``'s order get one each."""
    share = dict.fromkeys(wants, 0)
    left, unmet = capacity, [k for k in wants if wants[k] > 0]
    while unmet and left > 0:
        equal = left // len(unmet)
        if equal == 0:
            for k in unmet[:left]:
                share[k] += 1
            break
        for k in list(unmet):
            given = min(equal, wants[k] - share[k])
            share[k] += given
            left -= given
            if share[k] == wants[k]:
                unmet.remove(k)
    return share


def fair_shares(slots: int, demands: list[Demand]) -> dict[str, int]:
    """Each job's cap on candidates in flight: slots split among accounts, then among each one's jobs."""
    by_account: dict[str | None, list[Demand]] = defaultdict(list)
    for demand in demands:
        by_account[demand.account].append(demand)
    per_account = water_fill(slots, {a: sum(d.wants for d in ds) for a, ds in by_account.items()})
    shares: dict[str, int] = {}
    for account, ds in by_account.items():
        shares.update(water_fill(per_account[account], {d.job_id: d.wants for d in ds}))
    return {job_id: max(1, n) for job_id, n in shares.items()}


class FairShare:
    """``share(job_id)``: the job's current cap on candidates in flight (``IN_FLIGHT_PER_SLOT`` per
    slot of its fair share), or None before the job was seen running."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.store = JobStore(settings.database_url)
        self._queue_of: dict[str, str] = {}  # device spec -> its evaluation queue
        self._shares: dict[str, int] = {}
        self._refreshed = -math.inf
        self._lock = threading.Lock()

    def __call__(self, job_id: str) -> int | None:
        with self._lock:
            if time.monotonic() - self._refreshed >= REFRESH_S:
                try:
                    self._shares = self._compute()
                except Exception:  # the database is away: keep the last shares
                    log.warning("could not recompute the fair shares", exc_info=True)
                self._refreshed = time.monotonic()
            return self._shares.get(job_id)

    def _compute(self) -> dict[str, int]:
        live = {queue: slots(workers) for queue, workers in live_workers_by_queue(self.settings).items()}
        demands: dict[str, list[Demand]] = defaultdict(list)
        # Oldest first, so with fewer slots than jobs the oldest get theirs.
        for job in reversed(self.store.list_jobs(status="running", limit=MAX_RUNNING)):
            demands[self._queue(job.device)].append(Demand(job.id, job.account, job.parallelism))
        shares: dict[str, int] = {}
        for queue, queued in demands.items():
            shares.update(fair_shares(live.get(queue, 0), queued))
        return {job_id: IN_FLIGHT_PER_SLOT * n for job_id, n in shares.items()}

    def _queue(self, device: str) -> str:
        if device not in self._queue_of:
            self._queue_of[device] = eval_queue(resolve_device(device, self.settings).queue)
        return self._queue_of[device]
