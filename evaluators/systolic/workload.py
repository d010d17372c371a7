"""A workload as numpy arrays: one entry per distinct layer, with its repeat count and the
number formats its tensors are stored in (quantization changes bits, not shapes)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from tuneforge.evaluators.systolic.energy import RESCALE_PJ
from tuneforge.kernels.accel.layers import Layer, LayerFormat


@dataclass(frozen=True)
class WorkloadArrays:
    """Shape (L,) arrays: the GEMM view of each layer (Sr, Sc, T) and its formats."""

    names: tuple[str, ...]
    count: np.ndarray
    sr: np.ndarray  # ofmap pixels
    sc: np.ndarray  # filters
    t: np.ndarray  # window (reduction length)
    ifmap_words: np.ndarray
    filter_words: np.ndarray
    ofmap_words: np.ndarray
    macs: np.ndarray
    act_bits: np.ndarray  # 0 = the design's word width
    weight_bits: np.ndarray
    group_size: np.ndarray
    aligned: np.ndarray
    metadata_bits: np.ndarray  # scale (+ zero point) bits per group
    rescale_pj: np.ndarray  # energy of one rescale of a partial sum

    @classmethod
    def of(cls, layers: Sequence[tuple[Layer, int]], formats: Sequence[LayerFormat] | None = None) -> WorkloadArrays:
        formats = list(formats) if formats is not None else [LayerFormat()] * len(layers)
        if len(formats) != len(layers):
            raise ValueError(f"{len(formats)} layer formats for {len(layers)} layers")

        def ints(values):
            return np.asarray(list(values), dtype=np.int64)

        ls = [layer for layer, _ in layers]
        return cls(
            names=tuple(layer.name for layer in ls), count=ints(c for _, c in layers),
            sr=ints(x.ofmap_pixels for x in ls), sc=ints(x.filters for x in ls), t=ints(x.window for x in ls),
            ifmap_words=ints(x.ifmap_words for x in ls), filter_words=ints(x.filter_words for x in ls),
            ofmap_words=ints(x.ofmap_words for x in ls), macs=ints(x.macs for x in ls),
            act_bits=ints(f.act_bits or 0 for f in formats), weight_bits=ints(f.weight_bits or 0 for f in formats),
            group_size=ints(f.group_size for f in formats), aligned=np.asarray([f.aligned for f in formats]),
            metadata_bits=ints(f.metadata_bits for f in formats),
            rescale_pj=np.asarray([RESCALE_PJ.get(f.scale_dtype, 0.0) for f in formats]))
