"""``sim:<gpu>`` (h100, a100, h200): latency from the analytical GPU model; every number is modelled.

Configs the modelled GPU cannot run (shared memory, registers or threads over its limits)
are ``invalid``. Each distinct config is also verified under the Triton interpreter at a
small size (cached by code and config), so a wrong kernel variant is a ``wrong_result``
whatever the model says about its speed.
"""

from __future__ import annotations

import time

from tuneforge.core.errors import UserInputError
from tuneforge.core.settings import Settings
from tuneforge.core.types import Candidate, Problem, Provenance, TrialResult, TrialStatus
from tuneforge.evaluators.gpu_model.model import roofline_ms
from tuneforge.evaluators.gpu_model.prune import predict_config
from tuneforge.evaluators.gpu_model.specs import GPUS
from tuneforge.evaluators.speed_of_light import faster_than_light
from tuneforge.evaluators.triton_device import TritonDevice, max_error, verdict_timings
from tuneforge.kernels._base import Target
from tuneforge.kernels._triton_common import TritonTarget


class SimGpuDevice(TritonDevice):
    scheme = "sim"
    queue = "sim"
    provenance = Provenance.MODELLED
    worker_kind = "cpu"

    @staticmethod
    def accepts(spec: str) -> bool:
        return spec.partition(":")[2] in GPUS

    def __init__(self, spec: str, settings: Settings) -> None:
        super().__init__(spec, settings)
        self.gpu = GPUS[spec.partition(":")[2]]

    @property
    def hardware_name(self) -> str:
        return f"{self.gpu.name} (modelled)"

    def check_target(self, target: Target, problem: Problem) -> None:
        super().check_target(target, problem)
        if isinstance(target, TritonTarget) and target.untrusted_code:
            raise UserInputError(f"device {self.spec!r} models a kernel from its launch profile, which a submitted "
                                 "bundle does not declare: use --device cpu to verify it, or cuda to time it")

    def evaluate(self, target: TritonTarget, problem: Problem, candidate: Candidate) -> TrialResult:
        started = time.perf_counter()
        if (bad := self._invalid_config(target, problem, candidate)) is not None:
            return bad
        prediction = predict_config(target, problem, candidate.params, self.gpu)
        if not prediction.valid:
            return TrialResult.failure(TrialStatus.INVALID, f"cannot run on {self.hardware_name}: {prediction.reason}",
                                       metrics=prediction.details, **self._common())
        verdict = self._verify(target, problem, candidate, small=True)
        if not verdict.passed:
            return self._failed(verdict, started)
        too_fast = faster_than_light(prediction.time_ms, prediction.roofline_ms)
        if too_fast:
            return TrialResult.failure(TrialStatus.WRONG_RESULT, f"speed-of-light: {too_fast}", **self._common())
        metrics = {"time_ms": prediction.time_ms, "roofline_ms": prediction.roofline_ms,
                   "fraction_of_roofline": prediction.roofline_ms / prediction.time_ms,
                   "tflops": (target.flops(problem) or 0.0) / prediction.time_ms / 1e9,
                   "gbps": target.min_bytes(problem, candidate.params) / prediction.time_ms / 1e6,
                   **prediction.details, **max_error(verdict)}
        return TrialResult(status=TrialStatus.OK, metrics=metrics, cost_s=time.perf_counter() - started,
                           timings={**verdict_timings(verdict), "verify_cached": float(verdict.cached)},
                           log=f"modelled on {self.gpu.name}; verified under the Triton interpreter at "
                               f"{', '.join(str(c['dims']) for c in verdict.checks)}", **self._common())

    def baseline(self, target: TritonTarget, problem: Problem) -> TrialResult:
        """The vendor library (cuBLAS / torch eager), modelled at its known fraction of the roofline."""
        base, base_problem = target.baseline_of(problem)
        roof = roofline_ms(base.flops(base_problem) or 0.0, base.bytes(base_problem) or 0.0,
                           base.math_dtype(base_problem), self.gpu)
        time_ms = roof / base.vendor_efficiency
        return TrialResult(status=TrialStatus.OK, metrics={"time_ms": time_ms, "roofline_ms": roof,
                                                           "fraction_of_roofline": base.vendor_efficiency},
                           log=f"torch {base.name} modelled at {base.vendor_efficiency:.0%} of the roofline on "
                               f"{self.gpu.name}", **self._common())

    @classmethod
    def examples(cls, settings: Settings) -> list[str]:
        return [f"sim:{key}" for key in GPUS]


DEVICES = [SimGpuDevice]
