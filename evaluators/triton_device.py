"""What the Triton devices (cpu, cuda, sim:<gpu>) share: config checks, verification, failure results."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any, ClassVar

from platformdirs import user_cache_dir

from tuneforge.core.errors import UserInputError
from tuneforge.core.settings import Settings
from tuneforge.core.types import Candidate, Problem, TrialResult, TrialStatus
from tuneforge.evaluators._base import Device
from tuneforge.evaluators.verify import TimingRequest, Verdict, VerdictCache, WorkerPool, verify_candidate
from tuneforge.kernels._base import Target
from tuneforge.kernels._triton_common import TritonTarget
from tuneforge.kernels.bundle import BundleTarget


def default_verdict_dir() -> Path:
    return Path(user_cache_dir("tuneforge")) / "verdicts"


class TritonDevice(Device):
    families = ("triton",)
    worker_kind: ClassVar[str]  # "cpu" runs the Triton interpreter, "cuda" the GPU

    def __init__(self, spec: str, settings: Settings) -> None:
        super().__init__(spec, settings)
        self.pool = WorkerPool(self.worker_kind)  # workers start on first use
        self.cache = VerdictCache(default_verdict_dir())

    def check_target(self, target: Target, problem: Problem) -> None:
        super().check_target(target, problem)
        if not isinstance(target, TritonTarget):
            raise UserInputError(f"device {self.spec!r} needs a Triton target, {target.name!r} is not one")

    def _common(self) -> dict[str, Any]:
        return {"provenance": self.provenance, "device_name": self.hardware_name}

    def _invalid_config(self, target: TritonTarget, problem: Problem, candidate: Candidate) -> TrialResult | None:
        violations = target.space(problem).violations(candidate.params)
        if violations:
            return TrialResult.failure(TrialStatus.INVALID, "config outside the space: " + "; ".join(violations),
                                       **self._common())
        return None

    def _verify(self, target: TritonTarget, problem: Problem, candidate: Candidate, *, small: bool,
                timing: TimingRequest | None = None) -> Verdict:
        if candidate.source is not None or target.untrusted_code:
            # Code from outside the shipped templates (an agent, a user, a submitted bundle) gets the static
            # checks and a fresh sandboxed process with limits, never the shared long-lived worker.
            from tuneforge.evaluators.agent_code.sandbox import Limits

            # The job's evaluation timeout belongs to the process running this evaluation (see pool.py).
            limits = Limits(wall_s=None, memory_bytes=None if self.worker_kind == "cuda" else Limits.memory_bytes)
            if isinstance(target, BundleTarget):
                from tuneforge.evaluators.agent_code.bundle_verify import verify_bundle_source

                return verify_bundle_source(target, problem, candidate.params, candidate.source or target.bundle.kernel,
                                            device=self.worker_kind, small=small, timing=timing, limits=limits)
            from tuneforge.evaluators.agent_code.verify import verify_agent_source

            return verify_agent_source(target, problem, candidate.params, candidate.source, device=self.worker_kind,
                                       small=small, timing=timing, limits=limits)
        return verify_candidate(target, problem, candidate.params, pool=self.pool, cache=self.cache, small=small,
                                source=candidate.source, timing=timing)

    def _failed(self, verdict: Verdict, started: float, **metrics: float) -> TrialResult:
        return TrialResult.failure(TrialStatus(verdict.status), f"{verdict.rule}: {verdict.message}",
                                   metrics=metrics, cost_s=time.perf_counter() - started,
                                   timings=verdict_timings(verdict), **self._common())


def verdict_timings(verdict: Verdict) -> dict[str, float]:
    return {"compile_s": verdict.compile_s, "verify_s": verdict.verify_s}


def max_error(verdict: Verdict) -> dict[str, float]:
    errors = [c["max_err_rel"] for c in verdict.checks]
    return {"max_err_rel": max(errors)} if errors else {}
