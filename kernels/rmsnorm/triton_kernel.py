"""RMSNorm over the channel dimension of a (B, C, H, W) tensor in Triton (KernelBench level 1, #36).

Self-contained (torch, triton, standard library): ``rmsnorm(x, **config)`` is
``x / sqrt(mean(x**2, dim=1, keepdim=True) + 1e-5)``. One program owns BLOCK_S spatial
positions of one batch entry and walks the C channels (stride H*W) in BLOCK_C steps;
all channels in one block means one read of x, otherwise two.
"""

import torch
import triton
import triton.language as tl

EPS = 1e-5


@triton.jit
def _rmsnorm_kernel(x_ptr, y_ptr, C, S, eps, BLOCK_C: tl.constexpr, BLOCK_S: tl.constexpr, ONE_PASS: tl.constexpr):
    batch = tl.program_id(1).to(tl.int64)
    offs_s = tl.program_id(0) * BLOCK_S + tl.arange(0, BLOCK_S)
    offs_c = tl.arange(0, BLOCK_C)
    base = batch * C * S
    s_ok = offs_s < S
    if ONE_PASS:
        ok = (offs_c[:, None] < C) & s_ok[None, :]
        ptrs = base + offs_c[:, None] * S + offs_s[None, :]
        x = tl.load(x_ptr + ptrs, mask=ok, other=0.0).to(tl.float32)
        rms = tl.sqrt(tl.sum(x * x, 0) / C + eps)
        tl.store(y_ptr + ptrs, (x / rms[None, :]).to(y_ptr.dtype.element_ty), mask=ok)
    else:
        acc = tl.zeros((BLOCK_S,), tl.float32)
        for c0 in range(0, C, BLOCK_C):
            ok = (c0 + offs_c[:, None] < C) & s_ok[None, :]
            x = tl.load(x_ptr + base + (c0 + offs_c[:, None]) * S + offs_s[None, :], mask=ok, other=0.0)
            x = x.to(tl.float32)
            acc += tl.sum(x * x, 0)
        rms = tl.sqrt(acc / C + eps)
        for c0 in range(0, C, BLOCK_C):
            ok = (c0 + offs_c[:, None] < C) & s_ok[None, :]
            ptrs = base + (c0 + offs_c[:, None]) * S + offs_s[None, :]
            x = tl.load(x_ptr + ptrs, mask=ok, other=0.0).to(tl.float32)
            tl.store(y_ptr + ptrs, (x / rms[None, :]).to(y_ptr.dtype.element_ty), mask=ok)


def rmsnorm(x, out=None, *, BLOCK_C=64, BLOCK_S=256, num_warps=4, num_stages=2):
    """RMS-normalise a contiguous (B, C, H, W) tensor over C; writes into ``out`` when given."""
    if x.ndim != 4 or not x.is_contiguous():
        raise ValueError(f"rmsnorm needs a contiguous (B, C, H, W) tensor, got shape {tuple(x.shape)}")
    if out is None:
        out = torch.empty_like(x)
    if out.shape != x.shape or out.dtype != x.dtype or not out.is_contiguous():
        raise ValueError(f"out must be a contiguous {tuple(x.shape)} {x.dtype} tensor")
    B, C, H, W = x.shape
    S = H * W
    grid = (triton.cdiv(S, BLOCK_S), B)
    _rmsnorm_kernel[grid](x, out, C, S, EPS, BLOCK_C=BLOCK_C, BLOCK_S=BLOCK_S, ONE_PASS=C <= BLOCK_C,
                          num_warps=num_warps, num_stages=num_stages)
    return out


def reference(x):
    return x / torch.sqrt(torch.mean(x * x, dim=1, keepdim=True) + EPS)


def input_shapes(dims):
    return [(dims["B"], dims["C"], dims["H"], dims["W"])]


def output_shape(dims):
    return (dims["B"], dims["C"], dims["H"], dims["W"])
