"""Data movement of a systolic array: SRAM accesses, DRAM traffic, and stalls from finite
DRAM bandwidth and SRAM capacity.

The array walks column folds in the outer loop and row folds in the inner one (as
SCALE-Sim does). Half of each SRAM is active; the other half is being refilled
(double buffering). From that:

* os: a filter column block (T x cols) is reused across the inner row folds; the
  whole ifmap is streamed again for every column fold.
* ws: each filter tile is loaded once; the ifmap is streamed again for every column fold.
* is: each ifmap tile is loaded once; the filters are streamed again for every column fold.

A tensor that fits in its active SRAM half is fetched from DRAM once; otherwise it is
fetched once per reuse pass above. ws and is produce partial sums per row fold, which
are written out (as SCALE-Sim counts them). Quantization scales travel with the
filters: one per (group, reduction tile) piece per filter.

Stalls use a double-buffered overlap: the three DRAM ports (ifmap, filter, ofmap) run
in parallel with compute, so a layer takes the longest of compute and each port's
transfer time. As in SCALE-Sim, the initial SRAM fill before the first fold is not
counted in the layer's cycles.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from tuneforge.evaluators.systolic.cycles import ceil_div, folds
from tuneforge.evaluators.systolic.design import DesignArrays
from tuneforge.evaluators.systolic.workload import WorkloadArrays

OS, WS, IS = 0, 1, 2


@dataclass(frozen=True)
class Traffic:
    """Bits moved per layer (arrays broadcast to (D, L))."""

    sram_bits: tuple[np.ndarray, np.ndarray, np.ndarray]  # ifmap, filter, ofmap SRAM accesses
    dram_bits: tuple[np.ndarray, np.ndarray, np.ndarray]  # ifmap reads, filter reads, ofmap writes
    scale_pieces: np.ndarray  # (group, tile) pieces per filter: scale fetches and rescales per output


def scale_pieces(t, tile, group_size, aligned):
    """Pieces the reduction dim T is cut into by tile and group boundaries (1 when per channel).

    Each piece needs its own scale and its own rescale of the partial sum. Aligned
    groups restart at every tile of ``rows`` elements; unaligned ones run on across
    tiles, so a group straddling a tile boundary is cut in two.
    """
    g = np.where(group_size > 0, group_size, t)  # per channel: one group spans the reduction
    full, rem = t // tile, t % tile
    aligned_pieces = full * ceil_div(tile, g) + ceil_div(rem, g)
    cuts = (t - 1) // g + (t - 1) // tile - (t - 1) // np.lcm(g, tile)
    return np.where(group_size > 0, np.where(aligned, aligned_pieces, 1 + cuts), 1)


def traffic(d: DesignArrays, w: WorkloadArrays) -> Traffic:
    df = d.dataflow
    act = np.where(w.act_bits > 0, w.act_bits, d.word_bits)
    wgt = np.where(w.weight_bits > 0, w.weight_bits, d.word_bits)
    out = d.word_bits
    pieces = scale_pieces(w.t, d.rows, w.group_size, w.aligned)
    row_folds, col_folds = folds(df, d.rows, d.cols, w.sr, w.sc, w.t, pieces)
    filter_bits = w.filter_words * wgt + w.sc * pieces * w.metadata_bits

    active = lambda kb: kb * 1024 * 8 / 2  # noqa: E731 - half of each SRAM is being refilled
    ifmap_fits = w.ifmap_words * act <= active(d.ifmap_kb)
    filter_fits = filter_bits <= active(d.filter_kb)
    os_block_fits = filter_bits / np.maximum(col_folds, 1) <= active(d.filter_kb)
    ifmap_passes = np.where((df == IS) | ifmap_fits, 1, col_folds)
    filter_passes = np.choose(df, (np.where(os_block_fits, 1, row_folds), 1, np.where(filter_fits, 1, col_folds)))
    ofmap_passes = np.where(df == OS, 1, row_folds)

    dram = (w.ifmap_words * act * ifmap_passes, filter_bits * filter_passes, w.ofmap_words * out * ofmap_passes)
    # What the array reads from SRAM: each fold reads its own operand tiles.
    sram_reads_ifmap = w.sr * w.t * np.where(df == IS, 1, col_folds) * act
    sram_reads_filter = np.choose(df, (w.sc * w.t * row_folds, w.sc * w.t, w.sc * w.t * col_folds)) * wgt
    sram_reads_filter = sram_reads_filter + w.sc * pieces * w.metadata_bits * np.where(df == WS, 1, row_folds)
    sram = (sram_reads_ifmap + dram[0], sram_reads_filter + dram[1], w.ofmap_words * out * ofmap_passes * 2)
    return Traffic(sram_bits=sram, dram_bits=dram, scale_pieces=pieces)


def stall_cycles(d: DesignArrays, moved: Traffic, compute):
    """Cycles lost waiting for DRAM: zero with an ideal memory (infinite bandwidth)."""
    bits_per_cycle = d.bandwidth * d.word_bits
    port_cycles = np.maximum.reduce([bits / bits_per_cycle for bits in moved.dram_bits])
    return np.ceil(np.maximum(port_cycles - compute, 0))
