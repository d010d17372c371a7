"""Weight-only quantized matmul in Triton: y = x @ dequant(W), W stored as int8 or packed int4.

Self-contained (torch, triton, standard library). ``quantize(w, bits, group_size, pack_dim)``
turns a float (K, N) weight into ``(qweight, scales)``; ``quant_matmul(x, qweight, scales,
**config)`` multiplies. Scales are per group of ``group_size`` rows of K and per column, in the
activation dtype. int4 values are stored as unsigned nibbles with zero point 8, two per byte,
neighbours along K (``pack_dim="K"``: qweight is (K/2, N)) or along N (``"N"``: (K, N/2)).
"""

import os

import torch
import triton
import triton.language as tl

QMAX = {8: 127, 4: 7}


@triton.jit
def _quant_matmul_kernel(x_ptr, q_ptr, s_ptr, y_ptr, M, N, K,
                         stride_xm, stride_xk, stride_qr, stride_qc, stride_sg, stride_sn, stride_ym, stride_yn,
                         BITS: tl.constexpr, GROUP: tl.constexpr, PACK_K: tl.constexpr,
                         BLOCK_M: tl.constexpr, BLOCK_N: tl.constexpr, BLOCK_K: tl.constexpr,
                         DOT_FP32: tl.constexpr):
    offs_m = tl.program_id(0) * BLOCK_M + tl.arange(0, BLOCK_M)
    offs_n = tl.program_id(1) * BLOCK_N + tl.arange(0, BLOCK_N)
    m_ok = offs_m < M
    n_ok = offs_n < N
    acc = tl.zeros((BLOCK_M, BLOCK_N), dtype=tl.float32)
    for k0 in range(0, K, BLOCK_K):
        offs_k = k0 + tl.arange(0, BLOCK_K)
        k_ok = offs_k < K
        x = tl.load(x_ptr + offs_m[:, None] * stride_xm + offs_k[None, :] * stride_xk,
                    mask=m_ok[:, None] & k_ok[None, :], other=0.0)
        w_ok = k_ok[:, None] & n_ok[None, :]
        if BITS == 8:
            w = tl.load(q_ptr + offs_k[:, None] * stride_qr + offs_n[None, :] * stride_qc, mask=w_ok, other=0)
            w = w.to(tl.float32)
        elif PACK_K:
            byte = tl.load(q_ptr + (offs_k // 2)[:, None] * stride_qr + offs_n[None, :] * stride_qc,
                           mask=w_ok, other=0).to(tl.int32)
            w = (((byte >> ((offs_k % 2) * 4)[:, None]) & 0xF) - 8).to(tl.float32)
        else:
            byte = tl.load(q_ptr + offs_k[:, None] * stride_qr + (offs_n // 2)[None, :] * stride_qc,
                           mask=w_ok, other=0).to(tl.int32)
            w = (((byte >> ((offs_n % 2) * 4)[None, :]) & 0xF) - 8).to(tl.float32)
        # BLOCK_K divides GROUP, so the whole K block shares one row of scales.
        scale = tl.load(s_ptr + (k0 // GROUP) * stride_sg + offs_n * stride_sn, mask=n_ok, other=0.0)
        w = (w * scale.to(tl.float32)[None, :]).to(x.dtype)
        if DOT_FP32:
            acc = tl.dot(x.to(tl.float32), w.to(tl.float32), acc, input_precision="ieee")
        else:
            acc = tl.dot(x, w, acc)
    tl.store(y_ptr + offs_m[:, None] * stride_ym + offs_n[None, :] * stride_yn, acc.to(y_ptr.dtype.element_ty),
             mask=m_ok[:, None] & n_ok[None, :])


def quantize(w, bits, group_size, pack_dim="K"):
    """Symmetric per-group quantization of a float (K, N) weight: returns (qweight, scales)."""
    K, N = w.shape
    if bits not in QMAX or K % group_size:
        raise ValueError(f"bits must be 8 or 4 and K={K} a multiple of group_size={group_size}")
    groups = w.float().reshape(K // group_size, group_size, N)
    scales = (groups.abs().amax(dim=1) / QMAX[bits]).clamp_min(1e-8).to(w.dtype)
    q = torch.round(groups / scales.float()[:, None, :]).clamp(-QMAX[bits] - 1, QMAX[bits]).reshape(K, N)
    if bits == 8:
        return q.to(torch.int8), scales
    nibbles = (q + 8).to(torch.uint8)
    if pack_dim == "K":
        return nibbles[0::2] | (nibbles[1::2] << 4), scales
    return nibbles[:, 0::2] | (nibbles[:, 1::2] << 4), scales


def dequantize(qweight, scales, bits, group_size, pack_dim="K"):
    """The float (K, N) weight that ``qweight`` and ``scales`` stand for, in the scales' dtype."""
    if bits == 8:
        q = qweight.to(scales.dtype)
    else:
        low, high = (qweight & 0xF).to(torch.int16) - 8, (qweight >> 4).to(torch.int16) - 8
        q = torch.stack((low, high), dim=1 if pack_dim == "K" else 2)
        q = q.reshape(qweight.shape[0] * 2, -1) if pack_dim == "K" else q.reshape(qweight.shape[0], -1)
        q = q.to(scales.dtype)
    return q * scales.repeat_interleave(group_size, dim=0)


def quant_matmul(x, qweight, scales, out=None, *, bits=8, group_size=128, pack_dim="K", BLOCK_M=16, BLOCK_N=64,
                 BLOCK_K=64, num_warps=4, num_stages=3):
    """``x @ dequantize(qweight, scales, ...)`` for a 2-D ``x`` (M, K); writes into ``out`` when given."""
    M, K = x.shape
    N = scales.shape[1]
    rows, cols = (K // 2, N) if bits == 4 and pack_dim == "K" else (K, N // 2) if bits == 4 else (K, N)
    if qweight.shape != (rows, cols) or scales.shape != (K // group_size, N) or scales.dtype != x.dtype:
        raise ValueError(f"for x {tuple(x.shape)}, bits={bits}, pack_dim={pack_dim!r}, group_size={group_size}: "
                         f"qweight must be {(rows, cols)} and scales {(K // group_size, N)} {x.dtype}")
    if BLOCK_K > group_size or group_size % BLOCK_K:
        raise ValueError(f"BLOCK_K={BLOCK_K} must divide group_size={group_size}")
    if out is None:
        out = torch.empty((M, N), dtype=x.dtype, device=x.device)
    if out.shape != (M, N) or out.dtype != x.dtype:
        raise ValueError(f"out must be ({M}, {N}) {x.dtype}")
    grid = (triton.cdiv(M, BLOCK_M), triton.cdiv(N, BLOCK_N))
    # The Triton 3.7 interpreter multiplies bf16 dot operands as raw bits; widen them there (exact).
    dot_fp32 = x.dtype == torch.bfloat16 and os.environ.get("TRITON_INTERPRET") == "1"
    _quant_matmul_kernel[grid](x, qweight, scales, out, M, N, K, x.stride(0), x.stride(1), qweight.stride(0),
                               qweight.stride(1), scales.stride(0), scales.stride(1), out.stride(0), out.stride(1),
                               BITS=bits, GROUP=group_size, PACK_K=pack_dim == "K", BLOCK_M=BLOCK_M, BLOCK_N=BLOCK_N,
                               BLOCK_K=BLOCK_K, DOT_FP32=dot_fp32, num_warps=num_warps, num_stages=num_stages)
    return out


def reference(x, qweight, scales, *, bits, group_size, pack_dim):
    return torch.matmul(x, dequantize(qweight, scales, bits, group_size, pack_dim).to(x.dtype))


def prepare_inputs(x, w, *, bits, group_size, pack_dim):
    """Turn the float inputs (x, w) into what the kernel takes: (x, qweight, scales)."""
    return (x, *quantize(w, bits, group_size, pack_dim))


def input_shapes(dims):
    return [(dims["M"], dims["K"]), (dims["K"], dims["N"])]


def output_shape(dims):
    return (dims["M"], dims["N"])
