"""What a target evaluated on the ``sim:systolic`` device provides: the hardware a
candidate describes, the layers it runs, their number formats, and any metrics
measured outside the hardware model (e.g. a quantized model's accuracy).

Plain data only (dicts of design fields, ``Layer``, ``LayerFormat``): targets do not
import the model; the device builds it from these.
"""

from __future__ import annotations

from abc import abstractmethod
from typing import Any

from tuneforge.core.types import Problem
from tuneforge.kernels._base import Target
from tuneforge.kernels.accel.layers import Layer, LayerFormat


class SystolicTarget(Target):
    @abstractmethod
    def hardware(self, problem: Problem, params: dict[str, Any]) -> dict[str, Any]:
        """Design fields (rows, cols, dataflow, ifmap_kb, ...) for this candidate."""

    @abstractmethod
    def layers(self, problem: Problem, params: dict[str, Any]) -> list[tuple[Layer, int]]:
        """The workload: (layer, repeat count) pairs."""

    def formats(self, problem: Problem, params: dict[str, Any]) -> list[LayerFormat] | None:
        """Per-layer number formats; None = every tensor at the design's word width."""
        return None

    def measured_metrics(self, problem: Problem, params: dict[str, Any]) -> dict[str, float]:
        """Metrics measured for real rather than modelled (accuracy of a quantized model)."""
        return {}

    def baseline_params(self, problem: Problem) -> dict[str, Any] | None:
        """The candidate whose result is the job's baseline (uniform int8 for quantization)."""
        return None
