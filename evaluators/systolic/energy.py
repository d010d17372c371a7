"""Energy and area per action: the one table every accelerator number is built from.

All values are for a 45 nm process, from M. Horowitz, "Computing's energy problem (and
what we can do about it)", ISSCC 2014, Fig. 1.1.9 (energy) and the area table beside it,
as reproduced in Han et al., "EIE", ISCA 2016, Table I (DRAM access). Where a bit width
is not in the table the scaling rule says how it is derived. These are modelled
figures, not measurements of any chip.

| action                               | value            | source / assumption                                          |
|--------------------------------------|------------------|--------------------------------------------------------------|
| int multiply, a x w bits             | 0.2 pJ * a*w/64  | 8b mult 0.2 pJ; array multipliers scale with a*w (32b: 3.1)  |
| accumulate (32-bit int add)          | 0.1 pJ           | 32b add 0.1 pJ; the accumulator stays 32 bits at any width   |
| SRAM access, per bit, size S kB      | 10/64 pJ*sqrt(S/8) | 64b read: 8 kB 10 pJ, 32 kB 20 pJ, 1 MB 100 pJ (sqrt fits)  |
| DRAM access, per bit                 | 20 pJ            | 640 pJ per 32-bit DRAM read (EIE Table I)                    |
| rescale, per partial sum, fp16/bf16  | 1.1 pJ           | 16b FP mult 1.1 pJ (bf16 assumed equal)                      |
| rescale, per partial sum, fp32       | 3.7 pJ           | 32b FP mult 3.7 pJ                                           |
| rescale, per partial sum, e8m0       | 0.03 pJ          | a power-of-two scale is an exponent add: 8b add 0.03 pJ      |
| PE area, w-bit datapath              | 282*(w/8)^2 + 137 um^2 | 8b mult 282 um^2, 32b add 137 um^2 (32b mult 3495 um^2)  |
| SRAM area, per bit                   | 0.6 um^2         | assumption: 45 nm 6T cell ~0.3 um^2, x2 for periphery        |
"""

from __future__ import annotations

import numpy as np

MULT_8X8_PJ = 0.2
ACCUMULATE_PJ = 0.1
SRAM_64B_AT_8KB_PJ = 10.0
DRAM_PJ_PER_BIT = 640.0 / 32
RESCALE_PJ = {"fp16": 1.1, "bf16": 1.1, "fp32": 3.7, "e8m0": 0.03}
MULT_8B_AREA_UM2 = 282.0
ACCUMULATOR_AREA_UM2 = 137.0
SRAM_AREA_UM2_PER_BIT = 0.6


def mac_pj(act_bits, weight_bits):
    return MULT_8X8_PJ * np.asarray(act_bits) * weight_bits / 64 + ACCUMULATE_PJ


def sram_pj_per_bit(size_kb):
    return SRAM_64B_AT_8KB_PJ / 64 * np.sqrt(np.asarray(size_kb, dtype=float) / 8)


def pe_area_um2(word_bits):
    return MULT_8B_AREA_UM2 * (np.asarray(word_bits, dtype=float) / 8) ** 2 + ACCUMULATOR_AREA_UM2


def area_mm2(rows, cols, word_bits, total_sram_kb):
    sram_bits = np.asarray(total_sram_kb, dtype=float) * 1024 * 8
    return (rows * cols * pe_area_um2(word_bits) + sram_bits * SRAM_AREA_UM2_PER_BIT) / 1e6
