"""One flat record per best config: what the leaderboard shows and what the JSON-lines export writes."""

from __future__ import annotations

import json
from typing import Any

from tuneforge.core.errors import UserInputError
from tuneforge.db.records import BestConfigRecord

ROOFLINE_METRIC = "fraction_of_roofline"  # share of the speed-of-light bound the device reports (sim:<gpu> does)


def metric_direction(target: str, metric: str) -> str:
    """The metric's direction as the target declares it; replay targets (not registered) report times."""
    from tuneforge.kernels.registry import get_target

    try:
        declared = {o.metric: o.direction for o in get_target(target).objectives}
    except UserInputError:
        return "minimize"
    return declared.get(metric, "minimize")


def speedup(row: BestConfigRecord) -> float | None:
    """How many times better the best config is than the torch reference on the same device."""
    baseline = row.baseline or {}
    reference = (baseline.get("metrics") or {}).get(row.metric) if baseline.get("status", "ok") == "ok" else None
    if not reference or not row.value:
        return None
    ratio = reference / row.value
    return ratio if metric_direction(row.target, row.metric) == "minimize" else 1 / ratio


def best_record(row: BestConfigRecord) -> dict[str, Any]:
    """A stored best config, flattened, with its speedup and roofline share: a leaderboard row as JSON."""
    problem = row.problem or {}
    baseline = row.baseline or {}
    return {
        "target": row.target, "family": row.family, "problem": row.problem_key,
        "dims": problem.get("dims") or {}, "dtype": problem.get("dtype"), "extra": problem.get("extra") or {},
        "device": row.device, "device_name": row.device_name, "params": row.params,
        "custom_source": row.source is not None,
        "metric": row.metric, "value": row.value, "provenance": row.provenance,
        "speedup_vs_baseline": speedup(row),
        "baseline_provenance": baseline.get("provenance") if baseline else None,
        "fraction_of_roofline": (row.metrics or {}).get(ROOFLINE_METRIC),
        "strategy": row.strategy, "job_id": row.job_id, "trial_number": row.trial_number,
        "seed": row.seed, "versions": row.versions or {}, "updated_at": row.updated_at.isoformat(),
    }


def to_jsonl(records: list[dict[str, Any]]) -> str:
    return "".join(json.dumps(r, sort_keys=True) + "\n" for r in records)
