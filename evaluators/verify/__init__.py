"""Verification of kernel candidates against their target's reference, in worker processes.

``verify_candidate`` is the entry point for devices: it builds fresh checks, answers from the
verdict cache when the same code and config were already judged, and otherwise runs the
request in a worker with a time limit. ``harness.verify_callable`` applies the rules to a
function inside the current process (what a worker does).
"""

from __future__ import annotations

import dataclasses
import random

from tuneforge.core.space import Config
from tuneforge.core.types import Problem
from tuneforge.evaluators.verify.cache import VerdictCache, verdict_key
from tuneforge.evaluators.verify.plan import TimingRequest, Verdict, build_request
from tuneforge.evaluators.verify.pool import WorkerPool
from tuneforge.kernels._triton_common import TritonTarget

_rng = random.SystemRandom()


def verify_candidate(target: TritonTarget, problem: Problem, config: Config, *, pool: WorkerPool,
                     cache: VerdictCache | None, small: bool, timeout_s: float | None = None,
                     source: str | None = None, timing: TimingRequest | None = None) -> Verdict:
    """Verify ``config`` of ``target`` (or the candidate ``source`` run with it); time it when ``timing`` is given.

    Verdicts of verification alone are cached; a timed request always runs. ``timeout_s``: the pool's
    own limit, for callers that are not themselves killed at one (a job's evaluation is).
    """
    request = build_request(target, problem, config, device=pool.device, small=small, rng=_rng, source=source,
                            timing=timing)
    key = verdict_key(request, source if source is not None else target.impl_source())
    if timing is None and cache is not None and (hit := cache.get(key)) is not None:
        return dataclasses.replace(hit, cached=True)
    verdict = pool.run(request, timeout_s)
    if cache is not None:
        cache.put(key, Verdict(status=verdict.status, rule=verdict.rule, message=verdict.message,
                               checks=verdict.checks, compile_s=verdict.compile_s, verify_s=verdict.verify_s))
    return verdict


__all__ = ["TimingRequest", "Verdict", "VerdictCache", "WorkerPool", "verify_candidate"]
