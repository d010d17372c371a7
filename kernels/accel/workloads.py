"""Accelerator workloads: named lists of (layer, repeat count) in SCALE-Sim's convention.

Convolutions are given by the output size their padded PyTorch layer produces and are
written as the unpadded layer with that exact output (``Layer.conv_for_output``).
Batch 1, as SCALE-Sim's conv topologies are. Pooling, normalisation and softmax do not
run on the array and are left out.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import astuple

from tuneforge.core.errors import UserInputError
from tuneforge.kernels.accel.layers import Layer

Workload = list[tuple[Layer, int]]


def _dedupe(layers: list[Layer]) -> Workload:
    """Layers of the same shape become one entry (named after the first) with a count: the
    model scores each shape once."""
    shape = lambda layer: astuple(layer)[1:]  # noqa: E731 - every field but the name
    counts = Counter(shape(layer) for layer in layers)
    first = {shape(layer): layer for layer in reversed(layers)}
    return [(first[key], n) for key, n in counts.items()]


def _conv(name: str, out: int, kernel: int, cin: int, cout: int, stride: int = 1) -> Layer:
    return Layer.conv_for_output(name, out, kernel, cin, cout, stride)


def resnet18() -> Workload:
    layers = [_conv("conv1", 112, 7, 3, 64, 2)]
    cin = 64
    for stage, (width, out) in enumerate(((64, 56), (128, 28), (256, 14), (512, 7)), start=1):
        for block in range(2):
            stride = 2 if stage > 1 and block == 0 else 1
            layers.append(_conv(f"l{stage}_3x3a", out, 3, cin, width, stride))
            layers.append(_conv(f"l{stage}_3x3b", out, 3, width, width))
            if stride == 2:
                layers.append(_conv(f"l{stage}_down", out, 1, cin, width, 2))
            cin = width
    layers.append(Layer.gemm("fc", 1, 1000, 512))
    return _dedupe(layers)


def resnet50() -> Workload:
    layers = [_conv("conv1", 112, 7, 3, 64, 2)]
    cin = 64
    stages = ((64, 56, 3), (128, 28, 4), (256, 14, 6), (512, 7, 3))
    for stage, (width, out, blocks) in enumerate(stages, start=1):
        for block in range(blocks):
            stride = 2 if stage > 1 and block == 0 else 1  # torchvision v1.5: stride on the 3x3
            in_side = out * stride
            layers.append(_conv(f"l{stage}_1x1a", in_side, 1, cin, width))
            layers.append(_conv(f"l{stage}_3x3", out, 3, width, width, stride))
            layers.append(_conv(f"l{stage}_1x1b", out, 1, width, 4 * width))
            if block == 0:
                layers.append(_conv(f"l{stage}_down", out, 1, cin, 4 * width, stride))
            cin = 4 * width
    layers.append(Layer.gemm("fc", 1, 1000, 2048))
    return _dedupe(layers)


def transformer_block(hidden: int, heads: int, seq: int, ffn_mult: int = 4) -> Workload:
    """One encoder block as GEMMs: QKV, per-head scores and context, output projection, FFN."""
    if hidden % heads:
        raise UserInputError(f"hidden size {hidden} must be a multiple of the head count {heads}")
    head_dim = hidden // heads
    return [
        (Layer.gemm("qkv_proj", seq, 3 * hidden, hidden), 1),
        (Layer.gemm("attn_scores", seq, seq, head_dim), heads),
        (Layer.gemm("attn_context", seq, head_dim, seq), heads),
        (Layer.gemm("out_proj", seq, hidden, hidden), 1),
        (Layer.gemm("ffn_up", seq, ffn_mult * hidden, hidden), 1),
        (Layer.gemm("ffn_down", seq, hidden, ffn_mult * hidden), 1),
    ]


def gemm_list(name: str, shapes: list[tuple[int, int, int]]) -> Workload:
    return _dedupe([Layer.gemm(f"{name}_{m}x{n}x{k}", m, n, k) for m, n, k in shapes])


WORKLOADS = {
    "resnet18": resnet18,
    "resnet50": resnet50,
    "bert-base-block": lambda: transformer_block(768, 12, 128),
    "bert-large-block": lambda: transformer_block(1024, 16, 128),
    "vit-b16-block": lambda: transformer_block(768, 12, 197),
    "gemm-square": lambda: gemm_list("sq", [(256, 256, 256), (512, 512, 512), (1024, 1024, 1024)]),
    # Llama-7B projections for a 16-token decode batch: attention and MLP.
    "gemm-llm-decode": lambda: gemm_list("llm", [(16, 4096, 4096), (16, 11008, 4096), (16, 4096, 11008)]),
}


def get_workload(name: str) -> Workload:
    if name not in WORKLOADS:
        raise UserInputError(f"unknown workload {name!r}; choose one of {', '.join(WORKLOADS)}")
    return WORKLOADS[name]()
