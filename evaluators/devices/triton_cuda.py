"""``cuda`` / ``cuda:<index>``: Triton candidates verified and timed on a real NVIDIA GPU.

Verification runs in a worker process (several may compile at once); the timing inside it
holds a per-GPU file lock, so one timing runs per GPU at a time. Times are medians of CUDA
event measurements with the L2 flushed before every run (see ``evaluators.verify.timing``),
and a result faster than the GPU's roofline is rejected as impossible.
"""

from __future__ import annotations

import random
import shutil
import time
from pathlib import Path

from tuneforge.core.errors import UserInputError
from tuneforge.core.settings import Settings
from tuneforge.core.types import Candidate, Problem, Provenance, TrialResult, TrialStatus
from tuneforge.evaluators.gpu_model.model import roofline_ms
from tuneforge.evaluators.gpu_model.specs import spec_for_device_name
from tuneforge.evaluators.speed_of_light import faster_than_light
from tuneforge.evaluators.triton_device import TritonDevice, max_error, verdict_timings
from tuneforge.evaluators.verify import TimingRequest, Verdict
from tuneforge.evaluators.verify.plan import build_request
from tuneforge.kernels._triton_common import TritonTarget

# Verify at the real problem up to this many bytes of operands (the float64 reference needs
# several times that); larger problems are verified at the target's small shapes.
FULL_VERIFY_BYTES = 2**30
NO_GPU = ("no NVIDIA GPU is visible on this machine (no /dev/nvidia0, no nvidia-smi): run this job on a GPU "
          "worker (`tuneforge worker --device cuda`), or use --device sim:h100 for modelled timings or "
          "--device cpu to verify under the Triton interpreter")


def gpu_visible() -> bool:
    return Path("/dev/nvidia0").exists() or shutil.which("nvidia-smi") is not None


class TritonCudaDevice(TritonDevice):
    scheme = "cuda"
    queue = "cuda"
    provenance = Provenance.MEASURED
    worker_kind = "cuda"

    def __init__(self, spec: str, settings: Settings) -> None:
        super().__init__(spec, settings)
        index = spec.partition(":")[2] or "0"
        if not index.isdigit():
            raise UserInputError(f"cuda device spec is `cuda` or `cuda:INDEX`, not {spec!r}")
        self.gpu_index = int(index)
        self._device_name = ""

    @property
    def hardware_name(self) -> str:
        return self._device_name or f"CUDA GPU {self.gpu_index}"

    def _timing(self, problem: Problem) -> TimingRequest:
        return TimingRequest(dims=dict(problem.dims), dtype=problem.dtype or "fp32", gpu_index=self.gpu_index)

    def evaluate(self, target: TritonTarget, problem: Problem, candidate: Candidate) -> TrialResult:
        started = time.perf_counter()
        if not gpu_visible():
            return TrialResult.failure(TrialStatus.CRASHED, NO_GPU, **self._common())
        if (bad := self._invalid_config(target, problem, candidate)) is not None:
            return bad
        small = (target.bytes(problem) or 0) > FULL_VERIFY_BYTES
        verdict = self._verify(target, problem, candidate, small=small, timing=self._timing(problem))
        if not verdict.passed:
            return self._failed(verdict, started)
        metrics = self._timing_metrics(target, problem, verdict, target.min_bytes(problem, candidate.params))
        too_fast = faster_than_light(metrics["time_ms"], metrics.get("roofline_ms", 0.0))
        if too_fast:
            return TrialResult.failure(TrialStatus.WRONG_RESULT, f"speed-of-light: {too_fast}", metrics=metrics,
                                       cost_s=time.perf_counter() - started, **self._common())
        return TrialResult(status=TrialStatus.OK, metrics={**metrics, **max_error(verdict)},
                           cost_s=time.perf_counter() - started, timings=verdict_timings(verdict),
                           log=self._roofline_note(), **self._common())

    def baseline(self, target: TritonTarget, problem: Problem) -> TrialResult | None:
        """The torch reference (torch.matmul / eager ops), timed exactly like candidates; none for a
        submitted bundle, whose reference is user code the trusted worker never runs."""
        if target.untrusted_code:
            return None
        if not gpu_visible():
            return TrialResult.failure(TrialStatus.CRASHED, NO_GPU, **self._common())
        base, base_problem = target.baseline_of(problem)
        timing = self._timing(base_problem)
        request = build_request(base, base_problem, {}, device="cuda", small=True, rng=random.Random(0),
                                timing=timing, time_reference=True)
        verdict = self.pool.run(request)
        if not verdict.passed:
            return TrialResult.failure(TrialStatus(verdict.status), f"{verdict.rule}: {verdict.message}",
                                       **self._common())
        metrics = self._timing_metrics(base, base_problem, verdict, base.bytes(base_problem) or 0.0)
        return TrialResult(status=TrialStatus.OK, metrics=metrics, log=f"torch {base.name} reference, measured",
                           **self._common())

    def _timing_metrics(self, target: TritonTarget, problem: Problem, verdict: Verdict,
                        min_bytes: float) -> dict[str, float]:
        timing = verdict.timing or {}
        self._device_name = timing.get("device_name", self._device_name)
        metrics = {k: float(v) for k, v in timing.items() if isinstance(v, (int, float))}
        time_ms = metrics["time_ms"]
        flops = target.flops(problem) or 0.0
        metrics.update(tflops=flops / time_ms / 1e9, gbps=min_bytes / time_ms / 1e6)
        spec = spec_for_device_name(self._device_name)
        if spec is not None:
            roof = roofline_ms(flops, min_bytes, target.math_dtype(problem), spec)
            metrics.update(roofline_ms=roof, fraction_of_roofline=roof / time_ms)
        return metrics

    def _roofline_note(self) -> str:
        if spec_for_device_name(self._device_name) is None:
            return f"measured on {self.hardware_name}; no datasheet known for it, so no roofline check"
        return f"measured on {self.hardware_name}"


DEVICES = [TritonCudaDevice]
