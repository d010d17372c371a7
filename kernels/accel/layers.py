"""One accelerator layer in SCALE-Sim's topology convention.

A layer is a convolution without padding: ifmap H x W with C channels, K filters of
R x S, one stride for both axes. A GEMM (M, N, K) is the same thing as SCALE-Sim's
``-i gemm`` mode writes it: ifmap M x K, filter 1 x K, one channel, N filters.
"""

from __future__ import annotations

from dataclasses import dataclass

from tuneforge.core.errors import UserInputError


@dataclass(frozen=True)
class Layer:
    name: str
    ifmap_h: int
    ifmap_w: int
    filter_h: int
    filter_w: int
    channels: int
    filters: int
    stride: int = 1

    def __post_init__(self) -> None:
        sizes = (self.ifmap_h, self.ifmap_w, self.filter_h, self.filter_w, self.channels, self.filters, self.stride)
        if min(sizes) <= 0:
            raise UserInputError(f"layer {self.name!r}: every size must be a positive integer, got {sizes}")
        if self.filter_h > self.ifmap_h or self.filter_w > self.ifmap_w:
            raise UserInputError(f"layer {self.name!r}: the filter ({self.filter_h}x{self.filter_w}) must fit "
                                 f"inside the ifmap ({self.ifmap_h}x{self.ifmap_w}); there is no padding")

    @classmethod
    def gemm(cls, name: str, m: int, n: int, k: int) -> Layer:
        return cls(name, ifmap_h=m, ifmap_w=k, filter_h=1, filter_w=k, channels=1, filters=n, stride=1)

    @classmethod
    def conv_for_output(cls, name: str, out: int, kernel: int, channels: int, filters: int, stride: int) -> Layer:
        """The layer whose unpadded output is exactly ``out`` x ``out`` (a padded layer's output size)."""
        side = (out - 1) * stride + kernel
        return cls(name, side, side, kernel, kernel, channels, filters, stride)

    # SCALE-Sim sizes the output as ceil((H - R + s) / s), not floor((H - R) / s) + 1.
    @property
    def ofmap_h(self) -> int:
        return -(-(self.ifmap_h - self.filter_h + self.stride) // self.stride)

    @property
    def ofmap_w(self) -> int:
        return -(-(self.ifmap_w - self.filter_w + self.stride) // self.stride)

    @property
    def ofmap_pixels(self) -> int:
        return self.ofmap_h * self.ofmap_w

    @property
    def window(self) -> int:
        """Multiply-accumulates per output value (the GEMM reduction length)."""
        return self.filter_h * self.filter_w * self.channels

    @property
    def macs(self) -> int:
        return self.ofmap_pixels * self.window * self.filters

    @property
    def ifmap_words(self) -> int:
        return self.ifmap_h * self.ifmap_w * self.channels

    @property
    def filter_words(self) -> int:
        return self.window * self.filters

    @property
    def ofmap_words(self) -> int:
        return self.ofmap_pixels * self.filters

    def topology_row(self) -> str:
        """The layer as a SCALE-Sim conv topology row (with the trailing comma its parser needs)."""
        return (f"{self.name}, {self.ifmap_h}, {self.ifmap_w}, {self.filter_h}, {self.filter_w}, "
                f"{self.channels}, {self.filters}, {self.stride},")


def parse_layer(text: str) -> Layer:
    """``gemm:M,N,K`` or ``conv:H,W,R,S,C,K,STRIDE``."""
    kind, _, rest = text.partition(":")
    try:
        values = [int(v) for v in rest.split(",")]
    except ValueError:
        values = []
    if kind == "gemm" and len(values) == 3:
        return Layer.gemm(f"gemm_{'x'.join(map(str, values))}", *values)
    if kind == "conv" and len(values) == 7:
        return Layer(f"conv_{'x'.join(map(str, values))}", *values)
    raise UserInputError(f"cannot read layer {text!r}: write gemm:M,N,K or conv:H,W,R,S,C,K,STRIDE "
                         "(positive integers)")


SCALE_BITS = {"fp16": 16, "bf16": 16, "fp32": 32, "e8m0": 8}


@dataclass(frozen=True)
class LayerFormat:
    """How one layer's tensors are stored. ``None`` bits mean the design's word width.

    Weights are quantized in groups of ``group_size`` along the reduction dim (0 = one
    group per output channel). Each group carries a scale (and a zero point, stored at
    the weight width, when asymmetric). ``aligned`` groups restart at every tile of the
    reduction dim the array works on (its rows), so no group straddles two tiles.
    """

    act_bits: int | None = None
    weight_bits: int | None = None
    group_size: int = 0
    aligned: bool = True
    symmetric: bool = True
    scale_dtype: str | None = None  # None: no scales (plain integer/fixed-point layer)

    @property
    def metadata_bits(self) -> int:
        if self.scale_dtype is None:
            return 0
        zero_bits = 0 if self.symmetric else (self.weight_bits or 8)
        return SCALE_BITS[self.scale_dtype] + zero_bits
