"""What a job page plots besides the raw trials: parameter importance (Optuna's fANOVA), the
axes of a parallel-coordinates plot, and the Pareto front of a multi-objective job."""

from __future__ import annotations

import asyncio
import math
from collections import OrderedDict
from typing import Any

from fastapi import APIRouter, Depends, Path, Request

from tuneforge.api.auth import Principal, require
from tuneforge.api.deps import store_of
from tuneforge.api.schemas import COMMON, errors
from tuneforge.core.types import Objective
from tuneforge.db.records import JobRecord, TrialRecord
from tuneforge.db.store import JobStore
from tuneforge.search.results import pareto_front

router = APIRouter(prefix="/api/v1", tags=["dashboard"], responses=errors(404, *COMMON))
MIN_TRIALS_FOR_IMPORTANCE = 5
_CACHE_SIZE = 64
# (job id, trials seen, status) -> analysis: a finished job is analysed once, a running one once per new
# trial count. Concurrent requests for the same state share one computation (single flight). One cache
# per app: its futures belong to the app's event loop.
AnalysisCache = OrderedDict[tuple[str, int, str], asyncio.Future]


@router.get("/jobs/{job_id}/analysis")
async def job_analysis(request: Request, job_id: str = Path(..., min_length=1, max_length=32),
                       store: JobStore = Depends(store_of), who: Principal = Depends(require("read"))) -> dict[str, Any]:
    job = await asyncio.to_thread(store.get_job, job_id, who.sees)
    if not hasattr(request.app.state, "analysis_cache"):
        request.app.state.analysis_cache = AnalysisCache()
    _cache = request.app.state.analysis_cache
    key = (job_id, job.n_trials, job.status)
    future = _cache.get(key)
    if future is None or (future.done() and future.exception() is not None):
        future = _cache[key] = asyncio.ensure_future(asyncio.to_thread(_analyse_job, store, job))
        while len(_cache) > _CACHE_SIZE:
            _cache.popitem(last=False)
    _cache.move_to_end(key)
    return await asyncio.shield(future)


def _analyse_job(store: JobStore, job: JobRecord) -> dict[str, Any]:
    return analyse(job, store.trials(job.id, limit=job.n_trials + 1))


def analyse(job: JobRecord, trials: list[TrialRecord]) -> dict[str, Any]:
    objectives = job.objective_list
    scored = [t for t in trials if t.values and t.feasible and all(math.isfinite(v) for v in t.values)]
    result: dict[str, Any] = {
        "objectives": [{"metric": o.metric, "direction": o.direction} for o in objectives],
        "provenance": sorted({t.provenance for t in trials}),
        "importance": importance(scored, objectives[0]),
        "parallel": parallel_axes(scored),
    }
    if len(objectives) > 1:
        front = pareto_front(scored, objectives)
        result["pareto"] = {"points": [{"number": t.number, "values": t.values} for t in scored],
                            "front": [t.number for t in front]}
    return result


def importance(trials: list[TrialRecord], objective: Objective) -> dict[str, Any]:
    """fANOVA importance of each varied parameter for the first objective, summing to 1."""
    out: dict[str, Any] = {"metric": objective.metric, "evaluator": "fANOVA (Optuna)", "params": []}
    distributions = _distributions(trials)
    if len(trials) < MIN_TRIALS_FOR_IMPORTANCE or not distributions:
        out["note"] = (f"needs at least {MIN_TRIALS_FOR_IMPORTANCE} successful trials that vary a parameter "
                       f"(has {len(trials)})")
        return out
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(direction=objective.direction)
    for t in trials:
        params = {name: _encode(t.params[name], dist) for name, dist in distributions.items()}
        study.add_trial(optuna.trial.create_trial(params=params, distributions=distributions, value=t.values[0]))
    scores = optuna.importance.get_param_importances(
        study, evaluator=optuna.importance.FanovaImportanceEvaluator(seed=0))
    out["params"] = [{"name": name, "importance": float(score)} for name, score in scores.items()]
    return out


def _distributions(trials: list[TrialRecord]) -> dict[str, Any]:
    """Optuna distributions spanning the values the trials took; parameters held constant are left out."""
    from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution

    seen: dict[str, set] = {}
    for t in trials:
        for name, value in t.params.items():
            seen.setdefault(name, set()).add(value)
    distributions = {}
    for name, values in seen.items():
        if len(values) < 2 or not all(name in t.params for t in trials):
            continue
        if all(_is_number(v) for v in values):
            lo, hi = min(values), max(values)
            both_int = all(isinstance(v, int) for v in values)
            distributions[name] = IntDistribution(lo, hi) if both_int else FloatDistribution(lo, hi)
        else:
            distributions[name] = CategoricalDistribution(sorted(str(v) for v in values))
    return distributions


def _encode(value: Any, distribution: Any) -> Any:
    return str(value) if hasattr(distribution, "choices") else value


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def parallel_axes(trials: list[TrialRecord]) -> dict[str, Any]:
    """One axis per parameter (its values in order), and each trial's params with its first objective."""
    axes: dict[str, set] = {}
    for t in trials:
        for name, value in t.params.items():
            axes.setdefault(name, set()).add(value)
    return {
        "axes": [{"name": name, "numeric": all(_is_number(v) for v in values),
                  "values": sorted(values, key=lambda v: (not _is_number(v), v if _is_number(v) else str(v)))}
                 for name, values in axes.items()],
        "rows": [{"number": t.number, "params": t.params, "value": t.values[0]} for t in trials],
    }
