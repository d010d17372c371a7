"""An accelerator design (the hardware knobs) and its array form for vectorised scoring."""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields

import numpy as np

from tuneforge.evaluators.systolic.cycles import DATAFLOWS, dataflow_index


@dataclass(frozen=True)
class Design:
    rows: int = 32
    cols: int = 32
    dataflow: str = "ws"
    ifmap_kb: int = 64
    filter_kb: int = 64
    ofmap_kb: int = 32
    bandwidth: float | None = 16.0  # DRAM words/cycle per tensor port; None = ideal (stall-free) memory
    word_bits: int = 8  # datapath width: MAC inputs, SRAM and DRAM words
    clock_ghz: float = 1.0

    def violations(self) -> list[str]:
        out = []
        if self.dataflow not in DATAFLOWS:
            out.append(f"dataflow must be one of {', '.join(DATAFLOWS)}, not {self.dataflow!r}")
        for name in ("rows", "cols", "ifmap_kb", "filter_kb", "ofmap_kb", "word_bits"):
            if not isinstance(getattr(self, name), int) or getattr(self, name) <= 0:
                out.append(f"{name} must be a positive integer, not {getattr(self, name)!r}")
        if self.bandwidth is not None and not self.bandwidth > 0:
            out.append(f"bandwidth must be positive words/cycle (or None for an ideal memory), not {self.bandwidth}")
        if not self.clock_ghz > 0:
            out.append(f"clock_ghz must be positive, not {self.clock_ghz}")
        return out

    @property
    def total_sram_kb(self) -> int:
        return self.ifmap_kb + self.filter_kb + self.ofmap_kb

    def describe(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class DesignArrays:
    """Designs as columns of shape (D, 1), so they broadcast against layers of shape (L,)."""

    rows: np.ndarray
    cols: np.ndarray
    dataflow: np.ndarray
    ifmap_kb: np.ndarray
    filter_kb: np.ndarray
    ofmap_kb: np.ndarray
    bandwidth: np.ndarray  # inf for an ideal memory
    word_bits: np.ndarray
    clock_ghz: np.ndarray

    @classmethod
    def of(cls, designs: list[Design]) -> DesignArrays:
        def column(values, dtype):
            return np.asarray(values, dtype=dtype).reshape(-1, 1)

        columns = {f.name: [getattr(d, f.name) for d in designs] for f in fields(Design)}
        columns["dataflow"] = [dataflow_index(d) for d in columns["dataflow"]]
        columns["bandwidth"] = [np.inf if b is None else b for b in columns["bandwidth"]]
        floats = {"bandwidth", "clock_ghz"}
        return cls(**{k: column(v, float if k in floats else np.int64) for k, v in columns.items()})
