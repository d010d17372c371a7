"""Reads and writes of jobs, trials and best configs. Every write is one transaction."""

from __future__ import annotations

import hashlib
import platform
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict
from datetime import datetime, timedelta, timezone
from typing import Any

from sqlalchemy import func, insert, or_, select, text, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from tuneforge.core.errors import ConflictError, NotFoundError
from tuneforge.core.types import Candidate, JobStatus, Objective, TrialResult
from tuneforge.db.models import BestConfig, Job, KernelBundle, Trial, WorkerSeen, utcnow
from tuneforge.db.records import (BestConfigRecord, JobRecord, SubmitUsage, TrialRecord, Usage, WorkerRecord,
                                  from_row)
from tuneforge.db.session import get_engine, retry_disconnects_in, session_scope

Admission = Callable[[SubmitUsage], None]  # raises to refuse a submit
_LOCAL_ADMISSION = threading.Lock()




def _store_bundle(s, *, owner: str, sha256: str, document: dict[str, Any]) -> None:
    """The bundle's row, once per (owner, content hash): the same bundle submitted again is the same target."""
    found = s.scalar(select(KernelBundle.id).where(KernelBundle.owner == owner, KernelBundle.sha256 == sha256))
    if found is None:
        s.add(KernelBundle(owner=owner, sha256=sha256, name=document["name"], document=document))


@retry_disconnects_in
class JobStore:
    def __init__(self, url: str) -> None:
        self.url = url

    # -- jobs -----------------------------------------------------------------------------------
    def create_job(self, spec, account: str | None = None, *, key_name: str | None = None,
                   admit: Admission | None = None) -> str:
        """Store a queued job. ``admit`` sees the account's (and key's) usage and raises to refuse;
        the check and the insert are one transaction that no other submit of the account interleaves
        with, so two submits at once cannot both take the last free slot of a quota."""
        with self._admission(account) as s:
            if admit is not None:
                since = utcnow() - timedelta(days=1)
                key_usage = None if key_name is None else self._usage(s, Job.key_name == key_name, since)
                admit(SubmitUsage(self._usage(s, self._of_account(account), since), key_usage))
            job = Job(account=account, key_name=key_name, target=spec.target, family=spec.family,
                      problem=spec.problem.to_dict(),
                      problem_key=spec.problem.key(), device=spec.device, strategy=spec.strategy,
                      objectives=[asdict(o) for o in spec.objectives],
                      constraints=[str(c) for c in spec.constraints], budget_trials=spec.budget_trials,
                      budget_seconds=spec.budget_seconds, parallelism=spec.parallelism, seed=spec.seed,
                      options=spec.options, status=JobStatus.QUEUED.value, n_trials=0, spent_seconds=0.0,
                      bundle_sha256=spec.bundle_sha256)
            if spec.bundle is not None:
                _store_bundle(s, owner=spec.bundle_owner, sha256=spec.bundle_sha256, document=spec.bundle)
            s.add(job)
            s.flush()
            return job.id

    @staticmethod
    def _visible(s, job_id: str, account: str | None) -> Job:
        """``account``: only that account's jobs exist (another account's job is 'not found', never
        'forbidden', so ids cannot be probed); None: every job (admin keys, local use)."""
        job = s.get(Job, job_id)
        if job is None or (account is not None and job.account != account):
            raise NotFoundError(f"no job {job_id!r}; `tuneforge jobs` lists them")
        return job

    def get_job(self, job_id: str, account: str | None = None) -> JobRecord:
        with session_scope(self.url) as s:
            return from_row(JobRecord, self._visible(s, job_id, account))

    def list_jobs(self, *, status: str | None = None, target: str | None = None,
                  limit: int = 50, offset: int = 0, account: str | None = None) -> list[JobRecord]:
        with session_scope(self.url) as s:
            query = select(Job).order_by(Job.created_at.desc()).limit(limit).offset(offset)
            if account is not None:
                query = query.where(Job.account == account)
            if status:
                query = query.where(Job.status == status)
            if target:
                query = query.where(Job.target == target)
            return [from_row(JobRecord, j) for j in s.scalars(query)]

    def count_jobs_by_status(self) -> dict[str, int]:
        with session_scope(self.url) as s:
            return dict(s.execute(select(Job.status, func.count()).group_by(Job.status)).all())

    def claim_job(self, job_id: str, owner: str, lease_s: float) -> bool:
        """Take the job's lease: when queued, when its owner stopped heart-beating, or when we hold it."""
        stale = utcnow() - timedelta(seconds=lease_s)
        with session_scope(self.url) as s:
            result = s.execute(
                update(Job).where(Job.id == job_id).where(
                    or_(Job.status == JobStatus.QUEUED.value,
                        (Job.status == JobStatus.RUNNING.value)
                        & or_(Job.owner == owner, Job.heartbeat_at.is_(None), Job.heartbeat_at < stale)))
                .values(status=JobStatus.RUNNING.value, owner=owner, heartbeat_at=utcnow(),
                        started_at=func.coalesce(Job.started_at, utcnow())))
            return result.rowcount == 1

    def renew_leases(self, job_ids: list[str], owner: str) -> dict[str, str]:
        """Renew ``owner``'s leases of these jobs; the status of each one it still holds. A lease released
        meanwhile (its heartbeat cleared, for another process to take the job at once) stays released."""
        with session_scope(self.url) as s:
            s.execute(update(Job).where(Job.id.in_(job_ids), Job.owner == owner, Job.heartbeat_at.is_not(None))
                      .values(heartbeat_at=utcnow()))
            return self._held(s, job_ids, owner)

    def lease_statuses(self, job_ids: list[str], owner: str) -> dict[str, str]:
        """The status of each of these jobs that ``owner`` still holds (a read, no write)."""
        with session_scope(self.url) as s:
            return self._held(s, job_ids, owner)

    @staticmethod
    def _held(s: Session, job_ids: list[str], owner: str) -> dict[str, str]:
        rows = s.execute(select(Job.id, Job.status).where(Job.id.in_(job_ids), Job.owner == owner))
        return {row.id: row.status for row in rows}

    def release_job(self, job_id: str, owner: str) -> None:
        """Give up the lease of a running job (its process is stopping), so another takes it at once."""
        with session_scope(self.url) as s:
            s.execute(update(Job).where(Job.id == job_id, Job.owner == owner,
                                        Job.status == JobStatus.RUNNING.value).values(heartbeat_at=None))

    def set_baseline(self, job_id: str, baseline: dict[str, Any] | None) -> None:
        with session_scope(self.url) as s:
            s.execute(update(Job).where(Job.id == job_id).values(baseline=baseline))

    def set_transfer(self, job_id: str, sources: list[dict[str, Any]]) -> None:
        """The histories the job's model learned from and how much each weighs now."""
        with session_scope(self.url) as s:
            s.execute(update(Job).where(Job.id == job_id).values(transfer=sources))

    def finish_job(self, job_id: str, owner: str | None, status: JobStatus, *, error: str | None = None,
                   result: dict[str, Any] | None = None) -> None:
        with session_scope(self.url) as s:
            query = update(Job).where(Job.id == job_id)
            if owner is not None:
                query = query.where(Job.owner == owner)
            if status != JobStatus.CANCELLED:  # a loop that ends after a cancel never overwrites it
                query = query.where(Job.status.in_([JobStatus.QUEUED.value, JobStatus.RUNNING.value]))
            s.execute(query.values(status=status.value, error=error, result=result, finished_at=utcnow(),
                                   heartbeat_at=None))

    @contextmanager
    def _admission(self, account: str | None) -> Iterator[Session]:
        """A transaction serialized with every other submit of ``account``: PostgreSQL holds an
        advisory lock on the account until commit; a SQLite file has one writing server process, in
        which a lock does the same."""
        if get_engine(self.url).dialect.name != "postgresql":
            with _LOCAL_ADMISSION, session_scope(self.url) as s:
                yield s
            return
        with session_scope(self.url) as s:
            lock = int.from_bytes(hashlib.sha256(f"submit:{account}".encode()).digest()[:8], "big", signed=True)
            s.execute(text("SELECT pg_advisory_xact_lock(:lock)"), {"lock": lock})
            yield s

    @staticmethod
    def _of_account(account: str | None):
        return Job.account.is_(None) if account is None else Job.account == account

    @staticmethod
    def _usage(s: Session, mine, since: datetime) -> Usage:
        active_states = (JobStatus.QUEUED.value, JobStatus.RUNNING.value)
        active = s.scalar(select(func.count()).select_from(Job).where(mine, Job.status.in_(active_states)))
        trials, seconds = s.execute(select(func.coalesce(func.sum(Job.budget_trials), 0),
                                           func.coalesce(func.sum(Job.spent_seconds), 0.0))
                                    .where(mine, Job.created_at >= since)).one()
        return Usage(int(active), int(trials), float(seconds))

    def cancel_job(self, job_id: str, account: str | None = None) -> JobRecord:
        """Queued jobs end at once; a running job's loop sees the flag at its next batch and stops.
        A job that already ended cannot be cancelled (ConflictError)."""
        with session_scope(self.url) as s:
            job = self._visible(s, job_id, account)
            if JobStatus(job.status).finished:
                raise ConflictError(f"job {job_id} already ended ({job.status}); nothing to cancel")
            if job.status == JobStatus.QUEUED.value:
                job.status, job.finished_at = JobStatus.CANCELLED.value, utcnow()
            elif job.status == JobStatus.RUNNING.value:
                job.status = JobStatus.CANCELLED.value
            s.flush()
            return from_row(JobRecord, job)

    def bundle_document(self, owner: str, sha256: str) -> dict[str, Any]:
        """The stored document of ``owner``'s bundle ``sha256`` (NotFoundError for anyone else's)."""
        with session_scope(self.url) as s:
            document = s.scalar(select(KernelBundle.document).where(KernelBundle.owner == owner,
                                                                    KernelBundle.sha256 == sha256))
            if document is None:
                raise NotFoundError(f"no bundle {sha256[:12]} of {owner!r}")
            return document

    # -- trials ---------------------------------------------------------------------------------
    def record_trial(self, job_id: str, number: int, candidate: Candidate, result: TrialResult, *,
                     values: list[float] | None, feasible: bool, better: bool, worker: str | None) -> bool:
        """Store a trial and the job's counters in one transaction; a duplicate (job, number) writes nothing."""
        try:
            with session_scope(self.url) as s:
                # A Core insert: the ORM's unit of work costs more CPU than the write itself on this path.
                s.execute(insert(Trial.__table__).values(
                    job_id=job_id, number=number, params=candidate.params, source=candidate.source,
                    origin=candidate.origin, note=candidate.note, status=result.status.value,
                    metrics=result.metrics, values=values, feasible=feasible, provenance=result.provenance.value,
                    device_name=result.device_name, cost_s=result.cost_s, timings=result.timings, log=result.log,
                    worker=worker))
                changes: dict[str, Any] = {"n_trials": Job.n_trials + 1,
                                           "spent_seconds": Job.spent_seconds + result.cost_s}
                if better and values:
                    changes.update(best_value=values[0], best_trial=number)
                s.execute(update(Job).where(Job.id == job_id).values(**changes))
            return True
        except IntegrityError:
            return False

    def trials(self, job_id: str, *, after: int = -1, limit: int | None = None) -> list[TrialRecord]:
        with session_scope(self.url) as s:
            query = select(Trial).where(Trial.job_id == job_id, Trial.number > after).order_by(Trial.number)
            if limit:
                query = query.limit(limit)
            return [from_row(TrialRecord, t) for t in s.scalars(query)]

    # -- best configs ---------------------------------------------------------------------------
    def upsert_best(self, *, job: JobRecord, trial: TrialRecord, objective: Objective,
                    versions: dict[str, Any]) -> bool:
        """Keep the better of the stored best and this trial for (target, problem, device)."""
        value = trial.values[0]
        with session_scope(self.url) as s:
            best = s.scalars(select(BestConfig).where(
                BestConfig.target == job.target, BestConfig.problem_key == job.problem_key,
                BestConfig.device == job.device).with_for_update()).first()
            if best is not None and best.metric == objective.metric and not objective.better(value, best.value):
                return False
            fields = dict(family=job.family, problem=job.problem, device_name=trial.device_name,
                          params=trial.params, source=trial.source, metric=objective.metric, value=value,
                          metrics=trial.metrics, baseline=job.baseline, provenance=trial.provenance,
                          strategy=job.strategy, job_id=job.id, trial_number=trial.number,
                          seed=job.seed, versions=versions, updated_at=utcnow())
            if best is None:
                s.add(BestConfig(target=job.target, problem_key=job.problem_key, device=job.device,
                                 **fields))
            else:
                for key, val in fields.items():
                    setattr(best, key, val)
            return True

    def best_configs(self, *, target: str | None = None, device: str | None = None,
                     family: str | None = None) -> list[BestConfigRecord]:
        with session_scope(self.url) as s:
            query = select(BestConfig).order_by(BestConfig.target, BestConfig.problem_key, BestConfig.device)
            if target:
                query = query.where(BestConfig.target == target)
            if device:
                query = query.where(BestConfig.device == device)
            if family:
                query = query.where(BestConfig.family == family)
            return [from_row(BestConfigRecord, b) for b in s.scalars(query)]

    # -- workers --------------------------------------------------------------------------------
    def worker_seen(self, name: str, queues: list[str], info: dict[str, Any]) -> None:
        with session_scope(self.url) as s:
            row = s.get(WorkerSeen, name) or WorkerSeen(name=name, hostname=platform.node())
            row.queues, row.info, row.last_seen = queues, info, utcnow()
            s.add(row)

    def worker_gone(self, name: str) -> None:
        with session_scope(self.url) as s:
            row = s.get(WorkerSeen, name)
            if row is not None:
                s.delete(row)

    def workers(self, *, within_s: float = 300) -> list[WorkerRecord]:
        since = datetime.now(timezone.utc) - timedelta(seconds=within_s)
        with session_scope(self.url) as s:
            rows = s.scalars(select(WorkerSeen).where(WorkerSeen.last_seen >= since))
            return [from_row(WorkerRecord, r) for r in rows]
