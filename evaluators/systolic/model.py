"""Scores designs on a workload: cycles, stalls, traffic, utilisation, energy, area.

``simulate(designs, workload)`` returns per-layer arrays of shape (D, L) and
``totals`` sums them over the workload (layers weighted by their repeat count).
Every number is modelled (closed form + the energy table in ``energy.py``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from tuneforge.evaluators.systolic import energy
from tuneforge.evaluators.systolic.cycles import compute_cycles
from tuneforge.evaluators.systolic.design import Design, DesignArrays
from tuneforge.evaluators.systolic.memory import stall_cycles, traffic
from tuneforge.evaluators.systolic.workload import WorkloadArrays
from tuneforge.kernels.accel.layers import Layer, LayerFormat


@dataclass(frozen=True)
class LayerScores:
    compute_cycles: np.ndarray
    stall_cycles: np.ndarray
    dram_bits: np.ndarray
    sram_bits: np.ndarray
    energy_pj: np.ndarray
    macs: np.ndarray

    @property
    def cycles(self) -> np.ndarray:
        return self.compute_cycles + self.stall_cycles


def simulate(d: DesignArrays, w: WorkloadArrays) -> LayerScores:
    moved = traffic(d, w)
    compute = compute_cycles(d.dataflow, d.rows, d.cols, w.sr, w.sc, w.t, moved.scale_pieces)
    stalls = stall_cycles(d, moved, compute)
    act = np.where(w.act_bits > 0, w.act_bits, d.word_bits)
    wgt = np.where(w.weight_bits > 0, w.weight_bits, d.word_bits)
    sizes = (d.ifmap_kb, d.filter_kb, d.ofmap_kb)
    sram_pj = sum(bits * energy.sram_pj_per_bit(kb) for bits, kb in zip(moved.sram_bits, sizes))
    dram_bits = sum(moved.dram_bits)
    rescale_pj = w.sr * w.sc * moved.scale_pieces * w.rescale_pj
    energy_pj = w.macs * energy.mac_pj(act, wgt) + sram_pj + dram_bits * energy.DRAM_PJ_PER_BIT + rescale_pj
    return LayerScores(compute_cycles=compute, stall_cycles=stalls, dram_bits=dram_bits,
                       sram_bits=sum(moved.sram_bits), energy_pj=energy_pj, macs=np.broadcast_to(w.macs, compute.shape))


def totals(d: DesignArrays, w: WorkloadArrays) -> dict[str, np.ndarray]:
    """Workload metrics per design (arrays of shape (D,))."""
    s = simulate(d, w)

    def total(per_layer):
        return (per_layer * w.count).sum(axis=-1)

    cycles, compute = total(s.cycles), total(s.compute_cycles)
    clock_hz = d.clock_ghz[:, 0] * 1e9
    macs = total(s.macs)
    return {
        "latency_cycles": cycles,
        "latency_ms": cycles / clock_hz * 1e3,
        "compute_cycles": compute,
        "stall_cycles": total(s.stall_cycles),
        "utilization": macs / (cycles * d.rows[:, 0] * d.cols[:, 0]),
        "dram_mb": total(s.dram_bits) / 8 / 1e6,
        "sram_mb": total(s.sram_bits) / 8 / 1e6,
        "energy_uj": total(s.energy_pj) / 1e6,
        "area_mm2": energy.area_mm2(d.rows[:, 0], d.cols[:, 0], d.word_bits[:, 0],
                                    (d.ifmap_kb + d.filter_kb + d.ofmap_kb)[:, 0]),
        "macs": macs.astype(float),
    }


def score(design: Design, layers: Sequence[tuple[Layer, int]],
          formats: Sequence[LayerFormat] | None = None) -> dict[str, float]:
    """Workload metrics of one design, as plain floats."""
    metrics = totals(DesignArrays.of([design]), WorkloadArrays.of(layers, formats))
    return {name: float(values[0]) for name, values in metrics.items()}
