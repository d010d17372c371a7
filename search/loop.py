"""The tuning loop: ask a batch -> evaluate -> tell -> persist each trial as it arrives.

The study's hot state lives in this process; trials live in our tables. A loop
that starts on a job with stored trials (its previous worker died) rebuilds the
study from them and continues, so no trial is lost or run twice.
"""

from __future__ import annotations

import logging
import random
import threading
import traceback
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, Protocol

import optuna

from core.constraints import MetricConstraint
from core.settings import Settings
from core.space import Space
from core.types import Candidate, JobStatus, Objective, Problem, TrialResult, TrialStatus
from db.store import JobStore
from evaluators.registry import resolve_device, resolve_target
from search.encoding import decode, distributions, encode
from search.provenance import versions
from search.results import pareto_front, summarize
from search.strategies import get_strategy
from search.strategies._base import HistoryItem, StrategyContext

log = logging.getLogger(__name__)
optuna.logging.set_verbosity(optuna.logging.WARNING)

# How often the sampler may propose a config the space forbids or one already evaluated
# before the loop draws an unseen valid config itself.
MAX_REDRAWS = 50


class Evaluator(Protocol):
    """Where candidates go: a local process pool (embedded) or Celery queues (distributed)."""

    def evaluate(self, device: str, target: str, problem: dict[str, Any],
                 candidates: list[dict[str, Any]]) -> Iterator[tuple[int, dict[str, Any]]]:
        """Yield (index in ``candidates``, result dict) as each evaluation finishes."""

    def baseline(self, device: str, target: str, problem: dict[str, Any]) -> dict[str, Any] | None: ...


TrialCallback = Callable[[dict[str, Any], dict[str, Any]], None]  # (job, stored trial)


@dataclass
class _State:
    """What the loop knows about the job so far."""

    space: Space
    objectives: list[Objective]
    constraints: list[MetricConstraint]
    seen: dict[tuple, TrialResult] = field(default_factory=dict)
    history: list[HistoryItem] = field(default_factory=list)
    next_number: int = 0
    spent_s: float = 0.0
    best_value: float | None = None


class TuningLoop:
    def __init__(self, store: JobStore, settings: Settings, evaluator: Evaluator, *, owner: str,
                 on_trial: TrialCallback | None = None) -> None:
        self.store = store
        self.settings = settings
        self.evaluator = evaluator
        self.owner = owner
        self.on_trial = on_trial

    def run(self, job_id: str) -> dict[str, Any] | None:
        """Run (or resume) a job to its end. Returns the finished job, or None when another
        worker holds it."""
        if not self.store.claim_job(job_id, self.owner, self.settings.lease_s):
            return None
        stop_heartbeat = self._start_heartbeat(job_id)
        try:
            status = self._run_claimed(job_id)
            if status is not None:
                self.store.finish_job(job_id, self.owner, status, result=self._result(job_id))
        except Exception as exc:
            log.exception("job %s failed", job_id)
            self.store.finish_job(job_id, self.owner, JobStatus.FAILED,
                                  error=f"{type(exc).__name__}: {exc}\n{traceback.format_exc(limit=5)}")
        finally:
            stop_heartbeat.set()
        job = self.store.get_job(job_id)
        if job["status"] == JobStatus.SUCCEEDED.value:
            self._publish_best(job)
        return self.store.get_job(job_id)

    # -- the loop -------------------------------------------------------------------------------
    def _run_claimed(self, job_id: str) -> JobStatus | None:
        job = self.store.get_job(job_id)
        device = resolve_device(job["device"], self.settings)
        target = resolve_target(job["target"], device)
        problem = Problem.from_dict(job["problem"])
        objectives = [Objective(**o) for o in job["objectives"]]
        state = _State(space=target.space(problem), objectives=objectives,
                       constraints=[MetricConstraint.parse(c) for c in job["constraints"]])
        strategy = get_strategy(job["strategy"])
        ctx = StrategyContext(space=state.space, objectives=objectives, constraints=state.constraints,
                              seed=job["seed"], parallelism=job["parallelism"], budget_trials=job["budget_trials"],
                              target_name=target.name, problem=problem, device=device.spec, job_id=job_id,
                              settings=self.settings, options=job["options"])
        study = optuna.create_study(directions=[o.direction for o in objectives], sampler=strategy.sampler(ctx))
        dists = distributions(state.space)
        self._restore(study, dists, state, self.store.trials(job_id))
        if job["baseline"] is None:
            self.store.set_baseline(job_id, self.evaluator.baseline(device.spec, target.name, job["problem"]))
        rng = random.Random(job["seed"] * 7919 + state.next_number)

        while state.next_number < job["budget_trials"]:
            if job["budget_seconds"] is not None and state.spent_s >= job["budget_seconds"]:
                break
            want = min(job["parallelism"], job["budget_trials"] - state.next_number)
            batch = self._propose(study, dists, state, strategy.propose(ctx, state.history, want), want, rng)
            if not batch:
                break  # every valid config has been evaluated
            candidates = [c for _, c in batch]
            for index, raw in self.evaluator.evaluate(device.spec, target.name, job["problem"],
                                                       [c.to_dict() for c in candidates]):
                if not self._tell(job, study, state, batch[index], TrialResult.from_dict(raw)):
                    return None  # another worker took the job over
            status = self.store.heartbeat(job_id, self.owner)
            if status is None:
                return None
            if status == JobStatus.CANCELLED.value:
                return JobStatus.CANCELLED
        return JobStatus.SUCCEEDED

    def _propose(self, study: optuna.Study, dists: dict, state: _State, proposals: list[Candidate], want: int,
                 rng: random.Random) -> list[tuple[optuna.trial.Trial, Candidate]]:
        """Up to ``want`` unseen valid candidates: the strategy's own proposals first, then the sampler's."""
        batch: list[tuple[optuna.trial.Trial, Candidate]] = []
        in_batch: set[tuple] = set()
        for cand in proposals[:want]:
            study.enqueue_trial(encode(state.space, cand.params), skip_if_exists=False)
            batch.append((study.ask(dists), cand))
            in_batch.add(state.space.key(cand.params))
        redraws = 0
        while len(batch) < want:
            trial = study.ask(dists)
            config = decode(state.space, trial.params)
            key = state.space.key(config)
            if state.space.is_valid(config) and key not in state.seen and key not in in_batch:
                batch.append((trial, Candidate(config, origin=study.sampler.__class__.__name__)))
                in_batch.add(key)
                continue
            self._tell_known(study, trial, state, key)
            redraws += 1
            if redraws >= MAX_REDRAWS:
                config = self._unseen_valid(state, in_batch, rng)
                if config is None:
                    break
                study.enqueue_trial(encode(state.space, config), skip_if_exists=False)
                batch.append((study.ask(dists), Candidate(config, origin="random-fill")))
                in_batch.add(state.space.key(config))
                redraws = 0
        return batch

    def _tell_known(self, study: optuna.Study, trial: optuna.trial.Trial, state: _State, key: tuple) -> None:
        """A redraw: tell the sampler what it proposed is already known (or forbidden) so it moves on."""
        known = state.seen.get(key)
        values = known.objective_values(state.objectives) if known else None
        if values is None:
            study.tell(trial, state=optuna.trial.TrialState.FAIL)
        else:
            trial.set_user_attr("violations", [c.violation(known.metrics) for c in state.constraints])
            study.tell(trial, values)

    def _unseen_valid(self, state: _State, in_batch: set[tuple], rng: random.Random) -> dict | None:
        for _ in range(1000):
            config = state.space.sample_valid(rng)
            key = state.space.key(config)
            if key not in state.seen and key not in in_batch:
                return config
        remaining = [c for c in state.space.valid_configs()
                     if state.space.key(c) not in state.seen and state.space.key(c) not in in_batch]
        return rng.choice(remaining) if remaining else None

    def _tell(self, job: dict, study: optuna.Study, state: _State, proposed: tuple[optuna.trial.Trial, Candidate],
              result: TrialResult) -> bool:
        trial, candidate = proposed
        values = result.objective_values(state.objectives)
        feasible = values is not None and all(c.satisfied(result.metrics) for c in state.constraints)
        if values is None:
            study.tell(trial, state=optuna.trial.TrialState.FAIL)
        else:
            trial.set_user_attr("violations", [c.violation(result.metrics) for c in state.constraints])
            study.tell(trial, values)
        better = (feasible and len(state.objectives) == 1
                  and (state.best_value is None or state.objectives[0].better(values[0], state.best_value)))
        number = state.next_number
        if not self.store.record_trial(job["id"], number, candidate, result, values=values, feasible=feasible,
                                       better=better, worker=self.owner):
            return False
        if better:
            state.best_value = values[0]
        state.seen[state.space.key(candidate.params)] = result
        state.history.append(HistoryItem(number, candidate, result))
        state.next_number += 1
        state.spent_s += result.cost_s
        if self.on_trial:
            self.on_trial(job, {"number": number, "params": candidate.params, "status": result.status.value,
                                "values": values, "feasible": feasible, "best_value": state.best_value,
                                "provenance": result.provenance.value, "metrics": result.metrics})
        return True

    def _restore(self, study: optuna.Study, dists: dict, state: _State, stored: list[dict[str, Any]]) -> None:
        for row in stored:
            result = TrialResult(status=TrialStatus(row["status"]), metrics=row["metrics"], cost_s=row["cost_s"])
            candidate = Candidate(row["params"], source=row["source"], origin=row["origin"], note=row["note"])
            values = row["values"]
            if state.space.is_valid(row["params"]):
                violations = [c.violation(row["metrics"]) for c in state.constraints]
                study.add_trial(optuna.trial.create_trial(
                    params=encode(state.space, row["params"]), distributions=dists, values=values,
                    state=optuna.trial.TrialState.COMPLETE if values else optuna.trial.TrialState.FAIL,
                    user_attrs={"violations": violations}, system_attrs={"constraints": violations}))
            state.seen[state.space.key(row["params"])] = result
            state.history.append(HistoryItem(row["number"], candidate, result))
            state.spent_s += row["cost_s"]
            if row["feasible"] and values and len(state.objectives) == 1 and (
                    state.best_value is None or state.objectives[0].better(values[0], state.best_value)):
                state.best_value = values[0]
        state.next_number = len(stored)

    # -- lease and results ----------------------------------------------------------------------
    def _start_heartbeat(self, job_id: str) -> threading.Event:
        stop = threading.Event()

        def beat() -> None:
            while not stop.wait(self.settings.lease_s / 3):
                try:
                    self.store.heartbeat(job_id, self.owner)
                except Exception:  # a transient database error must not kill the job
                    log.warning("heartbeat for job %s failed", job_id, exc_info=True)

        threading.Thread(target=beat, name=f"heartbeat-{job_id}", daemon=True).start()
        return stop

    def _result(self, job_id: str) -> dict[str, Any]:
        job = self.store.get_job(job_id)
        return summarize(job, self.store.trials(job_id))

    def _publish_best(self, job: dict[str, Any]) -> None:
        best = (job.get("result") or {}).get("best")
        if best is None:
            return
        trial = next(t for t in self.store.trials(job["id"], after=best["number"] - 1, limit=1))
        self.store.upsert_best(job=job, trial=trial, objective=Objective(**job["objectives"][0]),
                               versions=versions())


__all__ = ["Evaluator", "TuningLoop", "pareto_front"]
