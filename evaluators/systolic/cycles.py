"""Stall-free compute cycles of a systolic array: SCALE-Sim's schedule in closed form.

A layer is a GEMM with Sr = ofmap pixels, Sc = filters and T = window (R*S*C). Each
dataflow pins two of them to the array's rows and columns and streams the third:

    dataflow  rows  cols  streamed
    os        Sr    Sc    T
    ws        T     Sc    Sr
    is        T     Sr    Sc

The array works fold by fold (one rows x cols tile of the spatial dims at a time).
A fold takes ``streamed + rows + cols - 2`` cycles to fill, stream and drain, plus
``rows`` more in ws/is, where the stationary operand is first loaded into the array.
SCALE-Sim's count is ``folds * per_fold - 1``; this matches ``scalesim==3.0.0`` cycle
for cycle in its stall-free (CALC) mode (see ``evaluators/systolic/validation.py``).

Every function takes numpy arrays (or scalars) and broadcasts, so one call scores many
designs against many layers.
"""

from __future__ import annotations

import numpy as np

DATAFLOWS = ("os", "ws", "is")


def dataflow_index(name: str) -> int:
    return DATAFLOWS.index(name)


def mapped_dims(dataflow, sr, sc, t):
    """(dim on array rows, dim on array columns, streamed dim) for each dataflow index."""
    return (np.choose(dataflow, (sr, t, t)), np.choose(dataflow, (sc, sc, sr)), np.choose(dataflow, (t, sr, sc)))


def ceil_div(a, b):
    return -(-np.asarray(a) // b)


def folds(dataflow, rows, cols, sr, sc, t, reduction_passes=1):
    """(row folds, column folds) of the spatially mapped dims.

    ``reduction_passes``: in ws/is the rows reduce T, and a column sum may only mix
    weights that share a scale, so a layout cutting T into more pieces than
    ceil(T / rows) (see ``memory.scale_pieces``) needs that many row folds.
    """
    on_rows, on_cols, _ = mapped_dims(dataflow, sr, sc, t)
    row_folds = ceil_div(on_rows, rows)
    return np.where(np.asarray(dataflow) == 0, row_folds, np.maximum(row_folds, reduction_passes)), \
        ceil_div(on_cols, cols)


def compute_cycles(dataflow, rows, cols, sr, sc, t, reduction_passes=1):
    """Cycles with an ideal memory (SCALE-Sim's compute cycles in CALC mode)."""
    row_folds, col_folds = folds(dataflow, rows, cols, sr, sc, t, reduction_passes)
    streamed = mapped_dims(dataflow, sr, sc, t)[2]
    preload = np.where(np.asarray(dataflow) == 0, 0, rows)  # ws/is load the stationary operand first
    per_fold = streamed + rows + cols - 2 + preload
    return row_folds * col_folds * per_fold - 1
