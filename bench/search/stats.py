"""Turning search traces into fraction-of-optimum tables and batch speedups.

Fraction of optimum after b trials = best time in the whole space / best time found in
the first b trials (0 when none of them ran). Each run is made once at the largest budget
and read at every smaller one, as anytime curves are in the literature.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy.stats import mannwhitneyu

from tuneforge.bench.search.replay_run import Trace

TARGET_FRACTION = 0.95
# Quality levels of the time-to-quality columns.
QUALITY_LEVELS = (0.90, 0.95)
# A tuneforge median below the best Kernel Tuner one counts as behind only when a one-sided
# Mann-Whitney test over the seeds says so at this level; otherwise the seeds cannot tell them apart.
BEHIND_P = 0.05


@dataclass(frozen=True)
class RunKey:
    space: str
    method: str  # "tuneforge:bo", "kernel_tuner:greedy_ils", ...
    parallel: int
    seed: int
    refill: str = "batch"  # how parallel workers get new candidates: whole batches or one as each frees
    mode: str = "cold"  # "cold": empty database; "transfer": the other GPUs' spaces of the kernel tuned first


def fraction_curve(trace: Trace, best_ms: float, budget: int) -> np.ndarray:
    """Fraction of optimum after each of the first ``budget`` trials (flat once a run stops early)."""
    found = np.array([t if t is not None else math.inf for t in trace.times_ms[:budget]] or [math.inf])
    curve = best_ms / np.minimum.accumulate(found)
    return np.concatenate([curve, np.full(max(0, budget - len(curve)), curve[-1])])


def wall_to_reach(trace: Trace, best_ms: float, level: float = TARGET_FRACTION) -> float:
    """Simulated wall-clock seconds until a trial within ``level`` of the optimum ended (inf if never)."""
    for t, wall in zip(trace.times_ms, trace.wall_s):
        if t is not None and best_ms / t >= level:
            return wall
    return math.inf


def trials_to_reach(trace: Trace, best_ms: float, level: float) -> float:
    """How many trials until one within ``level`` of the optimum (inf if never)."""
    for k, t in enumerate(trace.times_ms, start=1):
        if t is not None and best_ms / t >= level:
            return float(k)
    return math.inf


def _median_or_none(values: list[float]) -> float | None:
    """The median over seeds; None ("never") when more than half the seeds never got there."""
    med = float(np.median(values))
    return med if math.isfinite(med) else None


def quartiles(values: list[float]) -> dict[str, float]:
    q1, med, q3 = np.percentile(values, [25, 50, 75])
    return {"median": float(med), "q1": float(q1), "q3": float(q3), "n": len(values)}


def summarize(traces: dict[RunKey, Trace], best: dict[str, float], budgets: list[int]) -> dict:
    """Per (space, method, parallel) and over all spaces: quartiles of fraction of optimum per budget,
    the median curve, and the median wall time to reach TARGET_FRACTION."""
    top = max(budgets)
    groups: dict[tuple[str, str, int, str, str], list[RunKey]] = {}
    for key in traces:
        groups.setdefault((key.space, key.method, key.parallel, key.refill, key.mode), []).append(key)
    rows = []
    pooled: dict[tuple[str, int, str, str], dict[int, list[float]]] = {}
    serial: dict[tuple[str, str, str], np.ndarray] = {}  # (space, method, mode) -> one curve per seed
    for (space, method, parallel, refill, mode), keys in sorted(groups.items()):
        curves = np.array([fraction_curve(traces[k], best[space], top) for k in keys])
        if parallel == 1:
            serial[(space, method, mode)] = curves
        walls = [wall_to_reach(traces[k], best[space]) for k in keys]
        per_budget = {b: quartiles(list(curves[:, b - 1])) for b in budgets}
        for b in budgets:
            pooled.setdefault((method, parallel, refill, mode), {}).setdefault(b, []).extend(curves[:, b - 1])
        rows.append({"space": space, "method": method, "parallel": parallel, "refill": refill, "mode": mode,
                     "seeds": len(keys),
                     "fraction": {str(b): v for b, v in per_budget.items()},
                     "median_curve": np.median(curves, axis=0).round(5).tolist(),
                     "q1_curve": np.percentile(curves, 25, axis=0).round(5).tolist(),
                     "q3_curve": np.percentile(curves, 75, axis=0).round(5).tolist(),
                     "median_wall_s_to_target": float(np.median(walls)),
                     "to_quality": {f"{level:.2f}": {
                         "trials": _median_or_none([trials_to_reach(traces[k], best[space], level) for k in keys]),
                         "seconds": _median_or_none([wall_to_reach(traces[k], best[space], level) for k in keys])}
                         for level in QUALITY_LEVELS}})
    overall = [{"space": "all", "method": method, "parallel": parallel, "refill": refill, "mode": mode,
                "fraction": {str(b): quartiles(v) for b, v in per_budget.items()}}
               for (method, parallel, refill, mode), per_budget in sorted(pooled.items())]
    return {"budgets": budgets, "target_fraction": TARGET_FRACTION, "rows": rows, "overall": overall,
            "batch_speedup": _batch_speedups(rows), "versus": _versus(serial, budgets), "behind_p": BEHIND_P}


def _versus(serial: dict[tuple[str, str, str], np.ndarray], budgets: list[int]) -> list[dict]:
    """Each serial tuneforge row against the Kernel Tuner strategy with the highest median on its
    space at each budget: the medians, the one-sided Mann-Whitney p-value of "tuneforge finds less",
    and a verdict: ahead, level, or behind (significant at BEHIND_P) or behind within noise.
    ``serial``: the fraction-of-optimum curves of every one-worker run, per (space, method, mode)."""
    out = []
    for (space, method, mode), ours in sorted(serial.items()):
        if not method.startswith("tuneforge:"):
            continue
        rivals = {m: c for (s, m, md), c in serial.items()
                  if s == space and md == "cold" and m.startswith("kernel_tuner:")}
        if not rivals:
            continue
        cells = {}
        for b in budgets:
            rival, theirs = max(rivals.items(), key=lambda kv: float(np.median(kv[1][:, b - 1])))
            mine, other = ours[:, b - 1], theirs[:, b - 1]
            p = float(mannwhitneyu(mine, other, alternative="less").pvalue)
            median, rival_median = float(np.median(mine)), float(np.median(other))
            cells[str(b)] = {"rival": rival, "median": median, "rival_median": rival_median, "p_behind": p,
                             "verdict": _verdict(median, rival_median, p)}
        out.append({"space": space, "method": method, "mode": mode, "budgets": cells})
    return out


def _verdict(mine: float, theirs: float, p_behind: float) -> str:
    # Medians are compared as the tables print them, to three digits.
    mine, theirs = round(mine, 3), round(theirs, 3)
    if mine > theirs:
        return "ahead"
    if mine == theirs:
        return "level"
    return "behind" if p_behind < BEHIND_P else "behind within noise"


def _batch_speedups(rows: list[dict]) -> list[dict]:
    """For each method run with several workers: how much less simulated wall time it needs to
    reach TARGET_FRACTION than with one worker (per space, and the geometric mean over spaces)."""
    walls: dict[str, dict[tuple[int, str], dict[str, float]]] = {}
    for r in rows:
        if r["mode"] != "cold":
            continue
        walls.setdefault(r["method"], {}).setdefault((r["parallel"], r["refill"]), {})[r["space"]] = \
            r["median_wall_s_to_target"]
    out = []
    for method, by_workers in sorted(walls.items()):
        serial = by_workers.get((1, "batch"))
        for (parallel, refill), per_space in sorted(by_workers.items()):
            if parallel == 1 or serial is None:
                continue
            ratios = {s: serial[s] / w for s, w in per_space.items()
                      if s in serial and math.isfinite(serial[s]) and math.isfinite(w) and w > 0}
            mean = math.exp(sum(math.log(v) for v in ratios.values()) / len(ratios)) if ratios else None
            out.append({"method": method, "parallel": parallel, "refill": refill, "per_space": ratios,
                        "geometric_mean": mean, "spaces_reaching_target": len(ratios), "spaces": len(per_space)})
    return out
