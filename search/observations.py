"""What a job's history says, as arrays over the space's pool of valid configs.

Failed configs (invalid, compile errors, crashes, metric-constraint violations) are not
dropped: they count as the worst value seen so far, so a model learns to stay away from
the regions that fail instead of proposing more of them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from tuneforge.core.types import Objective
from tuneforge.search.pool import ConfigPool, pool_for
from tuneforge.search.strategies._base import HistoryItem, StrategyContext


@dataclass
class Observations:
    pool: ConfigPool
    rows: np.ndarray  # pool rows evaluated, in trial order
    values: np.ndarray  # (n, n_objectives) transformed so lower is better; NaN where failed
    failed: np.ndarray  # bool per row
    seen: np.ndarray  # bool per pool row: evaluated already
    origins: list[str]  # who proposed each evaluated row

    @property
    def n_ok(self) -> int:
        return int((~self.failed).sum())

    def unseen_rows(self) -> np.ndarray:
        return np.flatnonzero(~self.seen)

    def scores(self, weights: np.ndarray | None = None) -> np.ndarray:
        """One lower-is-better number per evaluated row, failures imputed as the worst.

        Several objectives are normalised and folded with an augmented Chebyshev sum over
        ``weights`` (ParEGO), so different weights aim at different parts of the Pareto front.
        """
        vals = self.values
        if not self.n_ok:
            return np.zeros(len(vals))
        if vals.shape[1] > 1:
            ok = vals[~self.failed]
            lo, hi = ok.min(0), ok.max(0)
            norm = (vals - lo) / np.where(hi > lo, hi - lo, 1.0)
            w = weights if weights is not None else np.full(vals.shape[1], 1.0 / vals.shape[1])
            folded = (norm * w).max(1) + 0.05 * (norm * w).sum(1)
        else:
            folded = vals[:, 0].copy()
        folded[self.failed] = np.nanmax(folded)
        return folded


def _transform(value: float, objective: Objective, positive: bool) -> float:
    # Run times spread over orders of magnitude: model their logarithm.
    v = math.log(value) if positive else value
    return v if objective.direction == "minimize" else -v


def observe(ctx: StrategyContext, history: list[HistoryItem]) -> Observations:
    pool = pool_for(ctx.space)
    rows, raw, failed, origins = [], [], [], []
    for item in history:
        row = pool.row(item.candidate.params)
        if row is None:
            continue  # a config outside the pool (sampled spaces) cannot be placed on the model
        values = item.result.objective_values(ctx.objectives)
        feasible = values is not None and all(c.satisfied(item.result.metrics) for c in ctx.constraints)
        rows.append(row)
        raw.append(values if values is not None else [math.nan] * len(ctx.objectives))
        failed.append(not feasible)
        origins.append(item.candidate.origin)
    raw_arr = np.array(raw, dtype=np.float64).reshape(len(rows), len(ctx.objectives))
    positive = [bool(np.all(raw_arr[:, j][~np.isnan(raw_arr[:, j])] > 0)) for j in range(len(ctx.objectives))]
    values = np.array([[math.nan if math.isnan(v) else _transform(v, o, p)
                        for v, o, p in zip(r, ctx.objectives, positive)] for r in raw_arr]).reshape(raw_arr.shape)
    seen = np.zeros(len(pool), dtype=bool)
    seen[rows] = True
    return Observations(pool=pool, rows=np.array(rows, dtype=np.int64), values=values,
                        failed=np.array(failed, dtype=bool), seen=seen, origins=origins)
