"""``quant``: a quantization layout for a real trained model, and ``codesign``: that layout
and the accelerator's hardware searched together.

A layout is a weight bit width per layer plus a group size (32, 64, 128 or one group per
output channel), symmetric or asymmetric integers, the scale's number format, and
whether groups restart at every tile of the array's reduction dim (``aligned``).
Activations are int8. Accuracy is measured on the held-out digits split with the
layout applied; latency, energy and area come from ``sim:systolic``. The default
constraint keeps the relative accuracy drop within 1 % of the float model.
"""

from __future__ import annotations

from typing import Any

from tuneforge.core.space import Constraint, Param, Space
from tuneforge.core.types import Objective, Problem
from tuneforge.kernels.accel.hardware_space import CLOCK_GHZ, HARDWARE_CONSTRAINTS, HARDWARE_PARAMS, design_fields
from tuneforge.kernels.accel.layers import Layer, LayerFormat
from tuneforge.kernels.accel.systolic_target import SystolicTarget
from tuneforge.kernels.quant.models import MODELS

WEIGHT_BITS = (2, 3, 4, 5, 6, 8)
GROUP_SIZES = (32, 64, 128, "channel")
SCALE_DTYPES = ("fp16", "bf16", "e8m0")
ACT_BITS = 8
# The array the quant target runs on. 48 rows: power-of-two groups straddle its tiles
# unless they are aligned, so the layout choice matters.
QUANT_HARDWARE = {"rows": 48, "cols": 32, "dataflow": "ws", "ifmap_kb": 64, "filter_kb": 64, "ofmap_kb": 32,
                  "bandwidth": 16.0, "word_bits": 8, "clock_ghz": CLOCK_GHZ}
UNIFORM_INT8 = {"group_size": "channel", "symmetric": True, "scale_dtype": "fp16", "aligned": True}


def _layer_names(model: str) -> list[str]:
    return [layer.name for _, layer in MODELS[model].weight_layers()]


def layout_params(model: str) -> list[Param]:
    return [*(Param(f"bits_{name}", WEIGHT_BITS) for name in _layer_names(model)),
            Param("group_size", GROUP_SIZES), Param("symmetric", (True, False)),
            Param("scale_dtype", SCALE_DTYPES), Param("aligned", (True, False))]


LAYOUT_CONSTRAINTS = [
    Constraint("scale_dtype e8m0 (a power-of-two, MX-style scale) needs symmetric groups",
               lambda c: c["scale_dtype"] != "e8m0" or c["symmetric"]),
]


def layer_formats(model: str, params: dict[str, Any]) -> list[LayerFormat]:
    group = params["group_size"]
    return [LayerFormat(act_bits=ACT_BITS, weight_bits=params[f"bits_{name}"],
                        group_size=0 if group == "channel" else group, aligned=params["aligned"],
                        symmetric=params["symmetric"], scale_dtype=params["scale_dtype"])
            for name in _layer_names(model)]


def uniform_int8(model: str) -> dict[str, Any]:
    return {**{f"bits_{name}": 8 for name in _layer_names(model)}, **UNIFORM_INT8}


class QuantTarget(SystolicTarget):
    name = "quant"
    family = "quant"
    description = ("per-layer weight bits, group size, symmetry, scale dtype and tile alignment of a trained "
                   "model; accuracy measured, cost modelled on sim:systolic")
    objectives = (Objective("energy_uj"), Objective("latency_ms"), Objective("accuracy", "maximize"),
                  Objective("weight_bits_avg"))
    default_constraints = ("accuracy_drop_rel<=0.01",)
    dims = ("batch",)
    extras = {"model": tuple(MODELS)}

    def default_problem(self) -> Problem:
        return Problem(dims={"batch": 256}, extra={"model": "digits-mlp"})

    def space(self, problem: Problem) -> Space:
        return Space(layout_params(problem.extra["model"]), list(LAYOUT_CONSTRAINTS))

    def hardware(self, problem: Problem, params: dict[str, Any]) -> dict[str, Any]:
        return dict(QUANT_HARDWARE)

    def layers(self, problem: Problem, params: dict[str, Any]) -> list[tuple[Layer, int]]:
        """A batch of inferences: an MLP's layers become GEMMs with M = batch; a CNN runs per image."""
        batch = problem.dims["batch"]
        out = []
        for _, layer in MODELS[problem.extra["model"]].weight_layers():
            if layer.ifmap_h == 1 and layer.filter_h == 1:  # a fully connected layer
                out.append((Layer.gemm(layer.name, batch, layer.filters, layer.window), 1))
            else:
                out.append((layer, batch))
        return out

    def formats(self, problem: Problem, params: dict[str, Any]) -> list[LayerFormat]:
        return layer_formats(problem.extra["model"], params)

    def measured_metrics(self, problem: Problem, params: dict[str, Any]) -> dict[str, float]:
        from tuneforge.kernels.quant.quantize import float_accuracy, quantized_accuracy

        model = problem.extra["model"]
        formats = self.formats(problem, params)
        tile = self.hardware(problem, params)["rows"]
        acc, ref = quantized_accuracy(model, tuple(formats), tile), float_accuracy(model)
        sizes = [layer.filter_words for _, layer in MODELS[model].weight_layers()]
        bits = sum(s * f.weight_bits for s, f in zip(sizes, formats)) / sum(sizes)
        return {"accuracy": acc, "float_accuracy": ref, "accuracy_drop_rel": (ref - acc) / ref,
                "weight_bits_avg": bits}

    def baseline_params(self, problem: Problem) -> dict[str, Any]:
        return uniform_int8(problem.extra["model"])


class CodesignTarget(QuantTarget):
    name = "codesign"
    family = "codesign"
    description = "a quantization layout and the systolic array's hardware searched together"
    objectives = (Objective("energy_uj"), Objective("latency_ms"), Objective("area_mm2"),
                  Objective("accuracy", "maximize"))

    def space(self, problem: Problem) -> Space:
        return Space([*HARDWARE_PARAMS, *layout_params(problem.extra["model"])],
                     [*HARDWARE_CONSTRAINTS, *LAYOUT_CONSTRAINTS])

    def hardware(self, problem: Problem, params: dict[str, Any]) -> dict[str, Any]:
        return design_fields(params)

    def baseline_params(self, problem: Problem) -> dict[str, Any]:
        hardware = {k: v for k, v in QUANT_HARDWARE.items() if k != "clock_ghz"}
        return {**hardware, "bandwidth": int(hardware["bandwidth"]), **uniform_int8(problem.extra["model"])}
