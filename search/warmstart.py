"""Warm start: a job first evaluates the best configs already found for its target
on the nearest problems and devices (transfer between sizes and between GPUs).

Nearest means: other problems on the same device, closest size first, then the same
problem on other devices, then the rest. The job's own (problem, device) is left out, so
rerunning a job with the same seed repeats its trials. Only configs valid in the new
job's space are used; each becomes a trial whose origin is ``warm-start`` and whose note
says where it came from.
"""

from __future__ import annotations

import math

from tuneforge.core.types import Candidate, Problem
from tuneforge.db.records import BestConfigRecord, JobRecord
from tuneforge.db.store import JobStore
from tuneforge.search.strategies._base import StrategyContext

# At most this share of the budget goes to warm-start configs, and never more than MAX.
BUDGET_SHARE = 0.1
MAX_WARM_START = 5


def _size_distance(a: Problem, b: Problem) -> float:
    """How far apart two problem sizes are, in orders of magnitude summed over dimensions."""
    if a.dtype != b.dtype or a.extra != b.extra or set(a.dims) != set(b.dims):
        return math.inf
    return sum(abs(math.log(max(a.dims[k], 1) / max(b.dims[k], 1))) for k in a.dims)


def rank_related(best_rows: list[BestConfigRecord], problem: Problem, device: str) -> list[BestConfigRecord]:
    """Best-config rows of the same target on other problems or devices, nearest first."""
    def nearness(row: BestConfigRecord) -> tuple[int, float]:
        tier = 0 if row.device == device else 1 if row.problem_key == problem.key() else 2
        return tier, _size_distance(Problem.from_dict(row.problem), problem)

    related = [r for r in best_rows if not (r.problem_key == problem.key() and r.device == device)]
    return sorted(related, key=nearness)


def warm_start_candidates(store: JobStore, job: JobRecord, ctx: StrategyContext) -> list[Candidate]:
    if not ctx.options.get("warm_start", True):
        return []
    limit = min(MAX_WARM_START, max(1, int(ctx.budget_trials * BUDGET_SHARE)))
    out: list[Candidate] = []
    keys: set[tuple] = set()
    for row in rank_related(store.best_configs(target=job.target), ctx.problem, ctx.device):
        params = row.params
        if row.source or not ctx.space.is_valid(params) or ctx.space.key(params) in keys:
            continue  # agent-written kernels and configs this space forbids do not transfer
        keys.add(ctx.space.key(params))
        out.append(Candidate(dict(params), origin="warm-start",
                             note=f"best of {row.problem_key} on {row.device} (job {row.job_id})"))
        if len(out) == limit:
            break
    return out
