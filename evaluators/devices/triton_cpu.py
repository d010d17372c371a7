"""``cpu``: Triton candidates verified under the Triton interpreter. Correctness only: the
interpreter's speed says nothing about a GPU's, so results are ``verified-only`` with no time."""

from __future__ import annotations

import time

from tuneforge.core.errors import UserInputError
from tuneforge.core.types import Candidate, Problem, Provenance, TrialResult, TrialStatus
from tuneforge.evaluators.triton_device import TritonDevice, max_error, verdict_timings
from tuneforge.kernels._base import Target
from tuneforge.kernels._triton_common import TritonTarget

# The interpreter runs a 256^3 fp32 matmul in about a second; keep each check within a few.
MAX_FLOPS = 2 * 512**3
MAX_BYTES = 64 * 2**20


class TritonCpuDevice(TritonDevice):
    scheme = "cpu"
    queue = "cpu"
    provenance = Provenance.VERIFIED_ONLY
    worker_kind = "cpu"

    @property
    def hardware_name(self) -> str:
        return "CPU (Triton interpreter, verification only)"

    def check_target(self, target: Target, problem: Problem) -> None:
        super().check_target(target, problem)
        assert isinstance(target, TritonTarget)
        if (target.flops(problem) or 0) > MAX_FLOPS or (target.bytes(problem) or 0) > MAX_BYTES:
            raise UserInputError(
                f"{target.name} at {problem.key()} is too big for the cpu device (Triton's interpreter runs "
                f"about a million times slower than a GPU): use a shape of at most {MAX_FLOPS:.2g} FLOPs and "
                f"{MAX_BYTES // 2**20} MiB, e.g. --shape "
                f"{','.join(f'{k}={v}' for k, v in target.small_dims().items())}, "
                "or --device sim:h100 for modelled timings")

    def evaluate(self, target: TritonTarget, problem: Problem, candidate: Candidate) -> TrialResult:
        started = time.perf_counter()
        if (bad := self._invalid_config(target, problem, candidate)) is not None:
            return bad
        try:
            self.check_target(target, problem)
        except UserInputError as exc:
            return TrialResult.failure(TrialStatus.INVALID, str(exc), **self._common())
        verdict = self._verify(target, problem, candidate, small=False)
        if not verdict.passed:
            return self._failed(verdict, started)
        return TrialResult(status=TrialStatus.OK, metrics=max_error(verdict), cost_s=time.perf_counter() - started,
                           timings=verdict_timings(verdict),
                           log="verified under the Triton interpreter at "
                               f"{', '.join(str(c['dims']) for c in verdict.checks)}; no timing on a CPU",
                           **self._common())


DEVICES = [TritonCpuDevice]
