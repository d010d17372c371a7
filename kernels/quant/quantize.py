"""Applies a quantization layout to a trained model for real and measures its accuracy.

Weights are quantized group-wise along the reduction dim (for a conv, R*S*C with the
channels innermost, as SCALE-Sim lays the ifmap out), then dequantized in place
(simulated quantization: the arithmetic is float, the values are exactly those the
integer format can hold). Activations entering each weight layer are quantized to
``act_bits`` per tensor, symmetric.
"""

from __future__ import annotations

import copy
from functools import lru_cache

from tuneforge.kernels.accel.layers import LayerFormat
from tuneforge.kernels.quant.models import MODELS, accuracy, trained_model


def group_segments(length: int, group_size: int, tile: int, aligned: bool) -> list[tuple[int, int]]:
    """[start, stop) ranges of the reduction dim that share one scale."""
    if group_size <= 0:
        return [(0, length)]
    starts = range(0, length, tile) if aligned else [0]
    segments = []
    for start in starts:
        stop = min(start + tile, length) if aligned else length
        segments += [(s, min(s + group_size, stop)) for s in range(start, stop, group_size)]
    return segments


def _round_scale(scale, dtype: str):
    import torch

    if dtype == "e8m0":  # a power of two, rounded up so the largest weight still fits
        return torch.exp2(torch.ceil(torch.log2(scale)))
    if dtype in ("fp16", "bf16"):
        return scale.to(getattr(torch, {"fp16": "float16", "bf16": "bfloat16"}[dtype])).float()
    return scale


def quantize_matrix(w, fmt: LayerFormat, tile: int):
    """Dequantized copy of a (rows, K) weight matrix in format ``fmt``."""
    import torch

    bits = fmt.weight_bits or 8
    out = torch.empty_like(w)
    for start, stop in group_segments(w.shape[1], fmt.group_size, tile, fmt.aligned):
        block = w[:, start:stop]
        if fmt.symmetric:
            qmax = 2 ** (bits - 1) - 1
            scale = _round_scale(block.abs().amax(1, keepdim=True).clamp_min(1e-8) / qmax, fmt.scale_dtype or "fp32")
            out[:, start:stop] = torch.clamp(torch.round(block / scale), -qmax - 1, qmax) * scale
        else:
            levels = 2 ** bits - 1
            lo, hi = block.amin(1, keepdim=True), block.amax(1, keepdim=True)
            scale = _round_scale((hi - lo).clamp_min(1e-8) / levels, fmt.scale_dtype or "fp32")
            zero = torch.clamp(torch.round(-lo / scale), 0, levels)
            out[:, start:stop] = (torch.clamp(torch.round(block / scale) + zero, 0, levels) - zero) * scale
    return out


def _quantize_activations(bits: int):
    import torch

    qmax = 2 ** (bits - 1) - 1

    def hook(module, args):
        x = args[0]
        scale = x.abs().amax().clamp_min(1e-8) / qmax
        return (torch.clamp(torch.round(x / scale), -qmax - 1, qmax) * scale,)

    return hook


@lru_cache(maxsize=4096)
def quantized_accuracy(model_name: str, formats: tuple[LayerFormat, ...], tile: int) -> float:
    """Test accuracy of ``model_name`` with each weight layer in its format."""
    import torch

    model = copy.deepcopy(trained_model(model_name))
    modules = dict(model.named_modules())
    with torch.no_grad():
        for (module_name, _), fmt in zip(MODELS[model_name].weight_layers(), formats):
            module = modules[module_name]
            w = module.weight
            if w.dim() == 4:  # (out, C, R, S) -> (out, R*S*C): channels innermost
                flat = w.permute(0, 2, 3, 1).reshape(w.shape[0], -1)
                q = quantize_matrix(flat, fmt, tile).reshape(w.shape[0], w.shape[2], w.shape[3], w.shape[1])
                w.copy_(q.permute(0, 3, 1, 2))
            else:
                w.copy_(quantize_matrix(w, fmt, tile))
            if fmt.act_bits:
                module.register_forward_pre_hook(_quantize_activations(fmt.act_bits))
    return accuracy(model)


@lru_cache(maxsize=8)
def float_accuracy(model_name: str) -> float:
    return accuracy(trained_model(model_name))
