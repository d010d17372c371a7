"""``sim:systolic``: a systolic-array accelerator, modelled in closed form.

Cycles follow SCALE-Sim's schedule exactly (stall-free); stalls, traffic, energy and
area come from the analytical model in ``evaluators/systolic``. Every number it
returns is modelled, except metrics a target measures itself (a quantized model's
accuracy), which the trial log names.
"""

from __future__ import annotations

import time

from tuneforge.core.errors import UserInputError
from tuneforge.core.types import Candidate, Problem, Provenance, TrialResult, TrialStatus
from tuneforge.evaluators._base import Device
from tuneforge.evaluators.systolic.design import Design
from tuneforge.evaluators.systolic.model import score
from tuneforge.kernels._base import Target
from tuneforge.kernels.accel.systolic_target import SystolicTarget

SPEC = "sim:systolic"


class SystolicDevice(Device):
    scheme = "sim"
    queue = "sim"
    provenance = Provenance.MODELLED
    families = ("accel", "quant", "codesign")

    @staticmethod
    def accepts(spec: str) -> bool:
        return spec.strip() == SPEC

    @property
    def hardware_name(self) -> str:
        return "systolic array (modelled)"

    def check_target(self, target: Target, problem: Problem) -> None:
        super().check_target(target, problem)
        if not isinstance(target, SystolicTarget):
            raise UserInputError(f"target {target.name!r} does not describe hardware and layers for {SPEC}")

    def evaluate(self, target: Target, problem: Problem, candidate: Candidate) -> TrialResult:
        common = {"provenance": self.provenance, "device_name": self.hardware_name}
        start = time.perf_counter()
        if not isinstance(target, SystolicTarget):
            return TrialResult.failure(TrialStatus.INVALID, f"{target.name} cannot run on {SPEC}", **common)
        params = candidate.params
        problems = target.space(problem).violations(params)
        try:
            design = Design(**target.hardware(problem, params)) if not problems else None
        except (TypeError, KeyError) as exc:
            problems = [f"not a design: {exc}"]
        problems = problems or design.violations()
        if problems:
            return TrialResult.failure(TrialStatus.INVALID, "; ".join(problems), **common)
        try:
            metrics = score(design, target.layers(problem, params), target.formats(problem, params))
            modelled_s = time.perf_counter() - start
            measured = target.measured_metrics(problem, params)
        except Exception as exc:  # a failure is a result: the job goes on
            return TrialResult.failure(TrialStatus.CRASHED, f"{type(exc).__name__}: {exc}",
                                       cost_s=time.perf_counter() - start, **common)
        total_s = time.perf_counter() - start
        log = "latency, energy, area, traffic: modelled"
        if measured:
            log += f"; {', '.join(sorted(measured))}: measured (real model, real data)"
        return TrialResult(status=TrialStatus.OK, metrics={**metrics, **measured}, cost_s=total_s,
                           timings={"model_s": modelled_s, "measure_s": total_s - modelled_s}, log=log, **common)

    def baseline(self, target: Target, problem: Problem) -> TrialResult | None:
        params = target.baseline_params(problem) if isinstance(target, SystolicTarget) else None
        if params is None:
            return None
        return self.evaluate(target, problem, Candidate(params=params, origin="baseline", note="the target's baseline"))

    @classmethod
    def examples(cls, settings) -> list[str]:
        return [SPEC]


DEVICES = [SystolicDevice]
