"""Matrix multiplication C = A @ B in Triton: plain tiled, grouped tile order, and split-K.

Self-contained (torch, triton, standard library) so it can be vendored as is:
``matmul(a, b, **config)`` returns ``a @ b`` in the inputs' dtype with fp32 accumulation.
"""

import os

import torch
import triton
import triton.language as tl

VARIANTS = ("tiled", "grouped", "splitk")


@triton.jit
def _tile_coords(pid, num_pid_m, num_pid_n, GROUP_M: tl.constexpr):
    # GROUP_M == 1 is row-major tile order; larger groups walk GROUP_M tile rows column by
    # column so that concurrently running programs share A and B tiles in L2.
    if GROUP_M == 1:
        return pid // num_pid_n, pid % num_pid_n
    group = GROUP_M * num_pid_n
    first_m = (pid // group) * GROUP_M
    rows = tl.minimum(num_pid_m - first_m, GROUP_M)
    return first_m + (pid % group) % rows, (pid % group) // rows


@triton.jit
def _matmul_kernel(a_ptr, b_ptr, c_ptr, M, N, K,
                   stride_am, stride_ak, stride_bk, stride_bn, stride_cs, stride_cm, stride_cn,
                   BLOCK_M: tl.constexpr, BLOCK_N: tl.constexpr, BLOCK_K: tl.constexpr,
                   GROUP_M: tl.constexpr, SPLIT_K: tl.constexpr, DOT_FP32: tl.constexpr):
    pid = tl.program_id(0)
    split = tl.program_id(1)
    num_pid_m = tl.cdiv(M, BLOCK_M)
    num_pid_n = tl.cdiv(N, BLOCK_N)
    pid_m, pid_n = _tile_coords(pid, num_pid_m, num_pid_n, GROUP_M)
    offs_m = pid_m * BLOCK_M + tl.arange(0, BLOCK_M)
    offs_n = pid_n * BLOCK_N + tl.arange(0, BLOCK_N)
    offs_k = split * BLOCK_K + tl.arange(0, BLOCK_K)
    a_ptrs = a_ptr + offs_m[:, None] * stride_am + offs_k[None, :] * stride_ak
    b_ptrs = b_ptr + offs_k[:, None] * stride_bk + offs_n[None, :] * stride_bn
    acc = tl.zeros((BLOCK_M, BLOCK_N), dtype=tl.float32)
    # Split s handles K blocks s, s + SPLIT_K, s + 2 * SPLIT_K, ...
    for k0 in range(split * BLOCK_K, K, BLOCK_K * SPLIT_K):
        k_ok = (k0 + tl.arange(0, BLOCK_K)) < K
        a = tl.load(a_ptrs, mask=(offs_m[:, None] < M) & k_ok[None, :], other=0.0)
        b = tl.load(b_ptrs, mask=k_ok[:, None] & (offs_n[None, :] < N), other=0.0)
        if DOT_FP32:
            acc = tl.dot(a.to(tl.float32), b.to(tl.float32), acc, input_precision="ieee")
        else:
            acc = tl.dot(a, b, acc)
        a_ptrs += BLOCK_K * SPLIT_K * stride_ak
        b_ptrs += BLOCK_K * SPLIT_K * stride_bk
    c_ptrs = c_ptr + split * stride_cs + offs_m[:, None] * stride_cm + offs_n[None, :] * stride_cn
    tl.store(c_ptrs, acc.to(c_ptr.dtype.element_ty), mask=(offs_m[:, None] < M) & (offs_n[None, :] < N))


@triton.jit
def _sum_splits_kernel(part_ptr, c_ptr, MN, SPLIT_K: tl.constexpr, BLOCK: tl.constexpr):
    offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    ok = offs < MN
    acc = tl.zeros((BLOCK,), dtype=tl.float32)
    for s in range(SPLIT_K):
        acc += tl.load(part_ptr + s * MN + offs, mask=ok, other=0.0)
    tl.store(c_ptr + offs, acc.to(c_ptr.dtype.element_ty), mask=ok)


def matmul(a, b, out=None, *, variant="grouped", BLOCK_M=64, BLOCK_N=64, BLOCK_K=32, GROUP_M=8, SPLIT_K=1,
           num_warps=4, num_stages=3):
    """``a @ b`` for 2-D ``a`` (M, K) and ``b`` (K, N) of one floating dtype; writes into ``out`` when given."""
    if a.ndim != 2 or b.ndim != 2 or a.shape[1] != b.shape[0]:
        raise ValueError(f"matmul needs a (M, K) and b (K, N), got {tuple(a.shape)} and {tuple(b.shape)}")
    if a.dtype != b.dtype or a.device != b.device:
        raise ValueError("a and b must share dtype and device")
    if variant not in VARIANTS:
        raise ValueError(f"variant must be one of {VARIANTS}, not {variant!r}")
    M, K = a.shape
    N = b.shape[1]
    if out is None:
        out = torch.empty((M, N), dtype=a.dtype, device=a.device)
    if out.shape != (M, N) or out.dtype != a.dtype:
        raise ValueError(f"out must be ({M}, {N}) {a.dtype}")
    group_m = GROUP_M if variant == "grouped" else 1
    split_k = SPLIT_K if variant == "splitk" else 1
    grid = (triton.cdiv(M, BLOCK_M) * triton.cdiv(N, BLOCK_N), split_k)
    # Split-K programs write fp32 partial tiles that a second kernel sums (deterministic, no atomics).
    target = out if split_k == 1 else torch.empty((split_k, M, N), dtype=torch.float32, device=a.device)
    stride_cs = 0 if split_k == 1 else target.stride(0)
    _matmul_kernel[grid](a, b, target, M, N, K, a.stride(0), a.stride(1), b.stride(0), b.stride(1),
                         stride_cs, target.stride(-2), target.stride(-1),
                         BLOCK_M=BLOCK_M, BLOCK_N=BLOCK_N, BLOCK_K=BLOCK_K, GROUP_M=group_m, SPLIT_K=split_k,
                         DOT_FP32=_dot_in_fp32(a.dtype), num_warps=num_warps, num_stages=num_stages)
    if split_k > 1:
        block = 1024
        _sum_splits_kernel[(triton.cdiv(M * N, block),)](target, out, M * N, SPLIT_K=split_k, BLOCK=block)
    return out


def _dot_in_fp32(dtype):
    # fp32 stays true fp32 (TF32 would miss fp32 tolerances). The Triton 3.7 interpreter multiplies
    # bf16 dot operands as raw bits, so there bf16 is widened first (exact, same result).
    return dtype == torch.float32 or (dtype == torch.bfloat16 and os.environ.get("TRITON_INTERPRET") == "1")


def reference(a, b):
    return torch.matmul(a, b)


def input_shapes(dims):
    return [(dims["M"], dims["K"]), (dims["K"], dims["N"])]


def output_shape(dims):
    return (dims["M"], dims["N"])
