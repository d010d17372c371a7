"""A finished job's summary: the best trial, or the Pareto front of a multi-objective job."""

from __future__ import annotations

from typing import Any

from tuneforge.core.types import Objective
from tuneforge.db.records import JobRecord, TrialRecord


def _dominates(a: list[float], b: list[float], objectives: list[Objective]) -> bool:
    no_worse = all(not o.better(y, x) for x, y, o in zip(a, b, objectives))
    strictly = any(o.better(x, y) for x, y, o in zip(a, b, objectives))
    return no_worse and strictly


def pareto_front(trials: list[TrialRecord], objectives: list[Objective]) -> list[TrialRecord]:
    """Feasible trials no other feasible trial dominates, ordered by the first objective."""
    feasible = [t for t in trials if t.feasible and t.values]
    front = [t for t in feasible if not any(_dominates(o.values, t.values, objectives) for o in feasible)]
    first = objectives[0]
    return sorted(front, key=lambda t: t.values[0] if first.direction == "minimize" else -t.values[0])


def summarize(job: JobRecord, trials: list[TrialRecord]) -> dict[str, Any]:
    objectives = job.objective_list
    statuses: dict[str, int] = {}
    for t in trials:
        statuses[t.status] = statuses.get(t.status, 0) + 1
    front = pareto_front(trials, objectives)
    best = front[0] if front else None
    summary: dict[str, Any] = {
        "n_trials": len(trials),
        # Devices that only check correctness (the Triton interpreter) pass configs without timing them.
        "verified_only": sum(t.status == "ok" and t.provenance == "verified-only" for t in trials),
        "statuses": statuses,
        "objectives": [o.metric for o in objectives],
        "best": None if best is None else {
            "number": best.number, "params": best.params, "values": best.values,
            "metrics": best.metrics, "provenance": best.provenance, "device_name": best.device_name},
    }
    if len(objectives) > 1:
        summary["pareto_front"] = [{"number": t.number, "params": t.params, "values": t.values}
                                   for t in front]
    baseline = job.baseline
    if best is not None and baseline and baseline.get("status") == "ok":
        metric = objectives[0].metric
        if baseline["metrics"].get(metric) and best.metrics.get(metric):
            ratio = baseline["metrics"][metric] / best.metrics[metric]
            summary["speedup_vs_baseline"] = ratio if objectives[0].direction == "minimize" else 1 / ratio
    return summary
