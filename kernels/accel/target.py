"""``accel``: tune a systolic array's hardware for one workload (latency, energy, area)."""

from __future__ import annotations

from typing import Any

from tuneforge.core.space import Space
from tuneforge.core.types import Objective, Problem
from tuneforge.kernels.accel.hardware_space import HARDWARE_CONSTRAINTS, HARDWARE_PARAMS, design_fields
from tuneforge.kernels.accel.layers import Layer
from tuneforge.kernels.accel.systolic_target import SystolicTarget
from tuneforge.kernels.accel.workloads import WORKLOADS, get_workload


class AccelTarget(SystolicTarget):
    name = "accel"
    family = "accel"
    description = ("systolic-array design (array shape, dataflow, SRAM sizes, DRAM bandwidth, word width) "
                   "for a workload; modelled latency, energy and area")
    objectives = (Objective("latency_ms"), Objective("energy_uj"), Objective("area_mm2"))
    extras = {"workload": tuple(WORKLOADS)}

    def default_problem(self) -> Problem:
        return Problem(extra={"workload": "resnet18"})

    def space(self, problem: Problem) -> Space:
        return Space(list(HARDWARE_PARAMS), list(HARDWARE_CONSTRAINTS))

    def hardware(self, problem: Problem, params: dict[str, Any]) -> dict[str, Any]:
        return design_fields(params)

    def layers(self, problem: Problem, params: dict[str, Any]) -> list[tuple[Layer, int]]:
        return get_workload(problem.extra["workload"])

    def flops(self, problem: Problem) -> float:
        return 2.0 * sum(layer.macs * n for layer, n in get_workload(problem.extra["workload"]))
