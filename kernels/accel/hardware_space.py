"""The systolic-array hardware knobs as a tuning space, with the legality rules a real
design obeys. Shared by the ``accel`` and ``codesign`` targets."""

from __future__ import annotations

from typing import Any

from tuneforge.core.space import Constraint, Param

ARRAY_SIDES = (8, 16, 24, 32, 48, 64, 96, 128, 256)
SRAM_KB = (16, 32, 64, 128, 256, 512, 1024)
MAX_PES = 128 * 128
MAX_ASPECT = 8
CLOCK_GHZ = 1.0

HARDWARE_PARAMS = [
    Param("rows", ARRAY_SIDES),
    Param("cols", ARRAY_SIDES),
    Param("dataflow", ("os", "ws", "is")),
    Param("ifmap_kb", SRAM_KB),
    Param("filter_kb", SRAM_KB),
    Param("ofmap_kb", SRAM_KB[:6]),
    Param("bandwidth", (4, 8, 16, 32, 64)),  # DRAM words/cycle per tensor port
    Param("word_bits", (8, 16)),
]


def _tile_fits(kb_name: str):
    # A double-buffered SRAM half must hold at least one rows x cols tile of its operand.
    return lambda c: c[kb_name] * 1024 * 8 // (2 * c["word_bits"]) >= c["rows"] * c["cols"]


HARDWARE_CONSTRAINTS = [
    Constraint(f"rows * cols <= {MAX_PES} (PE budget)", lambda c: c["rows"] * c["cols"] <= MAX_PES),
    Constraint(f"max(rows, cols) / min(rows, cols) <= {MAX_ASPECT} (array aspect ratio)",
               lambda c: max(c["rows"], c["cols"]) <= MAX_ASPECT * min(c["rows"], c["cols"])),
    Constraint("bandwidth <= rows + cols (the array edge cannot take more words per cycle)",
               lambda c: c["bandwidth"] <= c["rows"] + c["cols"]),
    Constraint("ifmap_kb * 8192 / (2 * word_bits) >= rows * cols (half the ifmap SRAM holds one array tile)",
               _tile_fits("ifmap_kb")),
    Constraint("filter_kb * 8192 / (2 * word_bits) >= rows * cols (half the filter SRAM holds one array tile)",
               _tile_fits("filter_kb")),
]


def design_fields(params: dict[str, Any]) -> dict[str, Any]:
    """The design a candidate's hardware knobs describe (clock fixed)."""
    fields = {p.name: params[p.name] for p in HARDWARE_PARAMS}
    fields["bandwidth"] = float(fields["bandwidth"])
    return {**fields, "clock_ghz": CLOCK_GHZ}
