"""The tuning loop: ask -> evaluate -> tell -> persist each trial as it arrives.

The study's hot state lives in this process; trials live in our tables. A loop
that starts on a job with stored trials (its previous worker died) rebuilds the
study from them and continues, so no trial is lost or run twice.
"""

from __future__ import annotations

import itertools
import logging
import threading
import traceback
from collections.abc import Callable
from typing import Any

from tuneforge.core.constraints import MetricConstraint
from tuneforge.core.settings import Settings
from tuneforge.core.types import JobStatus, Problem, TrialResult
from tuneforge.db.records import JobRecord
from tuneforge.db.store import JobStore
from tuneforge.evaluators.registry import TargetRef, resolve_device, resolve_target
from tuneforge.kernels.bundle import owner_of
from tuneforge.search.engine import Proposal, SearchEngine
from tuneforge.search.lease import CHECK_S, LeaseWatch
from tuneforge.search.provenance import versions
from tuneforge.search.results import summarize
from tuneforge.search.runner import EvaluationRunner
from tuneforge.search.strategies import get_strategy
from tuneforge.search.strategies._base import StrategyContext
from tuneforge.search.transfer_sources import database_sources, record_transfer
from tuneforge.search.warmstart import warm_start_candidates

log = logging.getLogger(__name__)

TrialCallback = Callable[[JobRecord, dict[str, Any]], None]  # (job, the trial just stored)
# A job's current share of the evaluation slots (its cap on candidates in flight); None: no cap yet.
SlotShare = Callable[[str], "int | None"]


class TuningLoop:
    def __init__(self, store: JobStore, settings: Settings, runner: EvaluationRunner, *, owner: str,
                 on_trial: TrialCallback | None = None, shutdown: threading.Event | None = None,
                 share: SlotShare | None = None) -> None:
        self.store = store
        self.share = share
        self.settings = settings
        self.runner = runner
        self.owner = owner
        self.on_trial = on_trial
        self.shutdown = shutdown

    def run(self, job_id: str) -> JobRecord | None:
        """Run (or resume) a job to its end. Returns the finished job, or None when another
        worker holds it."""
        if not self.store.claim_job(job_id, self.owner, self.settings.lease_s):
            return None
        watch = LeaseWatch(self.store, job_id, self.owner, self.settings.lease_s, self.shutdown)
        watch.start()
        try:
            status = self._run_claimed(job_id, watch)
            if status is not None:  # a cancelled or failed job is never marked succeeded (see finish_job)
                self.store.finish_job(job_id, self.owner, status, result=self._result(job_id))
        except Exception as exc:
            log.exception("job %s failed", job_id)
            self.store.finish_job(job_id, self.owner, JobStatus.FAILED,
                                  error=f"{type(exc).__name__}: {exc}\n{traceback.format_exc(limit=5)}")
        finally:
            watch.stop()
        if watch.shutdown.is_set():
            self.store.release_job(job_id, self.owner)  # another process resumes it from its trials
            return None
        job = self.store.get_job(job_id)
        if job.status == JobStatus.SUCCEEDED.value:
            self._publish_best(job)
        return self.store.get_job(job_id)

    # -- the loop -------------------------------------------------------------------------------
    def _run_claimed(self, job_id: str, watch: LeaseWatch) -> JobStatus | None:
        job = self.store.get_job(job_id)
        device = resolve_device(job.device, self.settings)
        target_ref = self._target_ref(job)
        target = resolve_target(target_ref, device)
        problem = Problem.from_dict(job.problem)
        ctx = StrategyContext(space=target.space(problem), objectives=job.objective_list,
                              constraints=[MetricConstraint.parse(c) for c in job.constraints],
                              seed=job.seed, parallelism=job.parallelism, budget_trials=job.budget_trials,
                              target_name=target.name, problem=problem, device=device.spec, job_id=job_id,
                              settings=self.settings, options=job.options)
        ctx.sources = database_sources(self.store, job, ctx)
        engine = SearchEngine(get_strategy(job.strategy), ctx,
                              warm_start=warm_start_candidates(self.store, job, ctx))
        engine.restore(self.store.trials(job_id))
        if job.baseline is None:
            self.store.set_baseline(job_id, self.runner.baseline(job_id, device.spec, target_ref, job.problem))

        # Asynchronous refill: a free evaluation slot gets a new candidate as soon as any result
        # arrives, so N workers never wait for the slowest member of a batch.
        session = self.runner.session(job_id, device.spec, target_ref, job.problem)
        in_flight: dict[int, Proposal] = {}
        keys = itertools.count()
        try:
            while not watch.ended:
                share = self.share(job_id) if self.share is not None else None
                width = job.parallelism if share is None else min(share, job.parallelism)
                room = min(width, job.budget_trials - engine.n_told) - len(in_flight)
                out_of_time = job.budget_seconds is not None and engine.spent_s >= job.budget_seconds
                # One pick at a time (each aware of the ones in flight): a wide batch of model-based
                # picks takes long, and between picks a cancel is seen and a slot starts work at once.
                while room > 0 and not out_of_time and not watch.ended:
                    picked = engine.ask(1)
                    if not picked:
                        break  # every valid config has been proposed
                    key = next(keys)
                    in_flight[key] = picked[0]
                    session.submit(key, picked[0].candidate.to_dict())
                    room -= 1
                if watch.ended:
                    break  # cancelled while the strategy was proposing: nothing more is evaluated
                if not in_flight:
                    break  # the budget is spent, or every valid config has been evaluated
                for key, raw in session.wait(CHECK_S):
                    if watch.ended:
                        break  # a wide batch of results is many writes: a cancel stops recording them
                    if not self._tell(job, engine, in_flight.pop(key), TrialResult.from_dict(raw)):
                        return None  # another worker took the job over
        finally:
            session.close()
        if watch.lost.is_set() or watch.shutdown.is_set():
            return None
        return JobStatus.CANCELLED if watch.cancelled.is_set() else JobStatus.SUCCEEDED

    def _target_ref(self, job: JobRecord) -> TargetRef:
        """What evaluations are told to evaluate: the target's name, or a bundle job's document (data only:
        evaluation processes verify its code in the sandbox; this process never runs it)."""
        if not job.bundle_sha256:
            return job.target
        owner = owner_of(job.target)
        assert owner is not None, f"bundle job {job.id} names no bundle target"
        return {"bundle": self.store.bundle_document(owner, job.bundle_sha256), "owner": owner}

    def _tell(self, job: JobRecord, engine: SearchEngine, proposal: Proposal, result: TrialResult) -> bool:
        told = engine.tell(proposal, result)
        if not self.store.record_trial(job.id, told.number, proposal.candidate, result, values=told.values,
                                       feasible=told.feasible, better=told.better, worker=self.owner):
            return False
        record_transfer(self.store, job.id, engine.strategy)
        if self.on_trial:
            self.on_trial(job, {"number": told.number, "params": proposal.candidate.params,
                                "status": result.status.value, "values": told.values, "feasible": told.feasible,
                                "best_value": engine.best_value, "provenance": result.provenance.value,
                                "metrics": result.metrics, "origin": proposal.candidate.origin})
        return True

    # -- results --------------------------------------------------------------------------------
    def _result(self, job_id: str) -> dict[str, Any]:
        job = self.store.get_job(job_id)
        return summarize(job, self.store.trials(job_id))

    def _publish_best(self, job: JobRecord) -> None:
        best = (job.result or {}).get("best")
        if best is None:
            return
        trial = next(t for t in self.store.trials(job.id, after=best["number"] - 1, limit=1))
        bundle = {"bundle_sha256": job.bundle_sha256} if job.bundle_sha256 else {}
        self.store.upsert_best(job=job, trial=trial, objective=job.objective_list[0],
                               versions={**versions(), **bundle})


__all__ = ["SlotShare", "TrialCallback", "TuningLoop"]
