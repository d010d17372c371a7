"""Runs SCALE-Sim (``scalesim==3.0.0``) on one layer: the slow, cycle-level oracle the
closed-form model is validated against.

SCALE-Sim needs files on disk: a config (with its ``[layout]``, ``[sparsity]`` and
``[run_presets]`` sections, or it refuses to start), a topology CSV whose rows end in
a comma, and a layout CSV even when no custom layout is used. Traces are skipped
(``save_disk_space``); they are huge and we only need the per-layer counters.
Finite bandwidth is SCALE-Sim's USER mode, where ifmap and filter DRAM bandwidth are
read from the ``[layout]`` bank bandwidths and only the ofmap uses ``Bandwidth``, so
all three are set to the same value.
"""

from __future__ import annotations

import contextlib
import io
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from tuneforge.kernels.accel.layers import Layer

_CONFIG = """[general]
run_name = oracle

[architecture_presets]
ArrayHeight = {rows}
ArrayWidth = {cols}
IfmapSramSzkB = {ifmap_kb}
FilterSramSzkB = {filter_kb}
OfmapSramSzkB = {ofmap_kb}
IfmapOffset = 0
FilterOffset = 10000000
OfmapOffset = 20000000
Bandwidth = {bandwidth}
Dataflow = {dataflow}
MemoryBanks = 1
ReadRequestBuffer = 32
WriteRequestBuffer = 32

[layout]
IfmapCustomLayout = False
IfmapSRAMBankBandwidth = {bandwidth}
IfmapSRAMBankNum = 1
IfmapSRAMBankPort = 2
FilterCustomLayout = False
FilterSRAMBankBandwidth = {bandwidth}
FilterSRAMBankNum = 1
FilterSRAMBankPort = 2

[sparsity]
SparsitySupport = false
SparseRep = ellpack_block
OptimizedMapping = false
BlockSize = 8
RandomNumberGeneratorSeed = 40

[run_presets]
InterfaceBandwidth = {mode}
UseRamulatorTrace = False
"""

_LAYOUT_HEADER = ("Layer name, IFMAP Height Intraline Factor, IFMAP Width Intraline Factor, "
                  "Filter Height Intraline Factor, Filter Width Intraline Factor, Channel Intraline Factor, "
                  "Num Filter Intraline Factor, IFMAP Intraline Order, IFMAP Interline Order, "
                  "Filter Intraline Order, Filter Interline Order,\n")


@dataclass(frozen=True)
class OracleCase:
    """One SCALE-Sim run: a layer on an array; ``bandwidth`` None = stall-free (CALC) mode."""

    layer: Layer
    rows: int
    cols: int
    dataflow: str
    sram_kb: tuple[int, int, int] = (256, 256, 128)
    bandwidth: int | None = None


@dataclass(frozen=True)
class OracleResult:
    case: OracleCase
    total_cycles: int  # compute + stalls, SCALE-Sim's "Total Cycles"
    stall_cycles: int
    ifmap_dram_reads: int
    filter_dram_reads: int
    ofmap_dram_writes: int
    seconds: float  # wall-clock time of the simulation itself

    @property
    def compute_cycles(self) -> int:
        return self.total_cycles - self.stall_cycles


def run_scalesim(case: OracleCase) -> OracleResult:
    """Simulate one case in this process (SCALE-Sim is single-threaded pure Python)."""
    from scalesim.scale_sim import scalesim

    with tempfile.TemporaryDirectory(prefix="scalesim-") as tmp:
        root = Path(tmp)
        ifmap_kb, filter_kb, ofmap_kb = case.sram_kb
        (root / "run.cfg").write_text(_CONFIG.format(
            rows=case.rows, cols=case.cols, ifmap_kb=ifmap_kb, filter_kb=filter_kb, ofmap_kb=ofmap_kb,
            dataflow=case.dataflow, bandwidth=case.bandwidth or 10,
            mode="CALC" if case.bandwidth is None else "USER"))
        (root / "topology.csv").write_text(
            "Layer name, IFMAP Height, IFMAP Width, Filter Height, Filter Width, Channels, Num Filter, Strides,\n"
            + case.layer.topology_row() + "\n")
        (root / "layout.csv").write_text(_LAYOUT_HEADER)
        with contextlib.redirect_stdout(io.StringIO()):
            sim = scalesim(save_disk_space=True, verbose=False, config=str(root / "run.cfg"),
                           topology=str(root / "topology.csv"), layout=str(root / "layout.csv"))
            start = time.perf_counter()
            sim.run_scale(top_path=str(root))
            seconds = time.perf_counter() - start
        layer_sim = sim.runner.single_layer_sim_object_list[0]
        _, total, stalls, *_ = layer_sim.get_compute_report_items()
        detail = layer_sim.get_detail_report_items()
    return OracleResult(case=case, total_cycles=int(total), stall_cycles=int(stalls),
                        ifmap_dram_reads=int(detail[11]), filter_dram_reads=int(detail[14]),
                        ofmap_dram_writes=int(detail[17]), seconds=seconds)
