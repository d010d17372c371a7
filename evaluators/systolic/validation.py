"""Checks the closed-form model against SCALE-Sim on real runs, and times both.

Stall-free (CALC) cases must agree cycle for cycle. Finite-bandwidth (USER) cases are
compared on total cycles (compute + stalls); SCALE-Sim's USER mode re-fetches far more
than a double-buffered design needs when SRAMs are small, so that error is reported,
not asserted.
"""

from __future__ import annotations

import itertools
import statistics
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass

from tuneforge.evaluators.systolic.cycles import DATAFLOWS
from tuneforge.evaluators.systolic.design import Design, DesignArrays
from tuneforge.evaluators.systolic.model import simulate
from tuneforge.evaluators.systolic.scalesim_oracle import OracleCase, OracleResult, run_scalesim
from tuneforge.evaluators.systolic.workload import WorkloadArrays
from tuneforge.kernels.accel.layers import Layer

_QUICK_LAYERS = [Layer.gemm("gemm_64x64x64", 64, 64, 64), Layer.gemm("gemm_100x50x70", 100, 50, 70),
                 Layer("conv_12x12_3x3_c8_k16", 12, 12, 3, 3, 8, 16, 1),
                 Layer("conv_15x15_3x3_c4_k8_s2", 15, 15, 3, 3, 4, 8, 2)]
_FULL_LAYERS = [Layer.gemm("gemm_256x64x128", 256, 64, 128), Layer.gemm("gemm_96x200x150", 96, 200, 150),
                Layer("conv_30x30_3x3_c32_k64", 30, 30, 3, 3, 32, 64, 1),
                Layer("conv_23x23_7x7_c3_k16_s2", 23, 23, 7, 7, 3, 16, 2)]
_QUICK_ARRAYS = [(8, 8), (16, 4), (4, 32)]
_FULL_ARRAYS = [(16, 16), (32, 8), (8, 32)]
_FINITE_SRAM_KB = (64, 64, 64)
_FINITE_BANDWIDTH = 10


def validation_cases(quick: bool = False) -> tuple[list[OracleCase], list[OracleCase]]:
    """(stall-free cases: every layer x array x dataflow, finite-bandwidth cases)."""
    layers, arrays = (_QUICK_LAYERS, _QUICK_ARRAYS) if quick else (_FULL_LAYERS, _FULL_ARRAYS)
    ideal = [OracleCase(layer, rows, cols, df)
             for layer, (rows, cols), df in itertools.product(layers, arrays, DATAFLOWS)]
    rows, cols = arrays[0]
    finite = [OracleCase(layer, rows, cols, df, _FINITE_SRAM_KB, _FINITE_BANDWIDTH)
              for layer, df in itertools.product(layers, DATAFLOWS)]
    return ideal, finite


@dataclass(frozen=True)
class Comparison:
    oracle: OracleResult
    model_compute: int
    model_stall: int
    model_seconds: float  # one model call for this one layer and design

    @property
    def model_total(self) -> int:
        return self.model_compute + self.model_stall

    @property
    def total_error(self) -> float:
        """Relative error of total cycles (compute + stalls) against SCALE-Sim."""
        return (self.model_total - self.oracle.total_cycles) / self.oracle.total_cycles

    @property
    def speedup(self) -> float:
        return self.oracle.seconds / self.model_seconds


def _design(case: OracleCase) -> Design:
    ifmap_kb, filter_kb, ofmap_kb = case.sram_kb
    return Design(case.rows, case.cols, case.dataflow, ifmap_kb, filter_kb, ofmap_kb,
                  bandwidth=None if case.bandwidth is None else float(case.bandwidth))


def model_case(case: OracleCase, repeats: int = 200) -> tuple[int, int, float]:
    """(compute cycles, stall cycles, median seconds per call) for one case."""
    designs, workload = DesignArrays.of([_design(case)]), WorkloadArrays.of([(case.layer, 1)])
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        scores = simulate(designs, workload)
        times.append(time.perf_counter() - start)
    return int(scores.compute_cycles[0, 0]), int(scores.stall_cycles[0, 0]), statistics.median(times)


def compare(cases: Iterable[OracleCase], workers: int = 2,
            progress: Callable[[Comparison], None] | None = None) -> list[Comparison]:
    """Run SCALE-Sim on every case (in ``workers`` processes) and the model beside it."""
    cases = list(cases)
    out = []
    with ProcessPoolExecutor(max_workers=workers) as pool:
        for case, oracle in zip(cases, pool.map(run_scalesim, cases)):
            compute, stall, seconds = model_case(case)
            out.append(Comparison(oracle, compute, stall, seconds))
            if progress:
                progress(out[-1])
    return out


def designs_per_second(workload: list[tuple[Layer, int]], n_designs: int = 4096) -> float:
    """Throughput of scoring many designs on a whole workload in one vectorised call."""
    sides = (8, 16, 32, 64, 128)
    designs = [Design(r, c, df, kb, kb, kb // 2, bandwidth=bw)
               for r, c, df, kb, bw in itertools.product(sides, sides, DATAFLOWS, (32, 128, 512), (4, 16, 64))]
    designs = (designs * (n_designs // len(designs) + 1))[:n_designs]
    arrays, w = DesignArrays.of(designs), WorkloadArrays.of(workload)
    start = time.perf_counter()
    simulate(arrays, w)
    return n_designs / (time.perf_counter() - start)
