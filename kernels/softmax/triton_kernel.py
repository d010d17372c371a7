"""Row-wise softmax in Triton, fused: one program per row.

Self-contained (torch, triton, standard library): ``softmax(x, **config)`` is
``torch.softmax(x, dim=-1)`` for a 2-D ``x``. A row that fits in one block is read
once; a longer row is read twice (an online max/sum pass, then the write pass).
"""

import torch
import triton
import triton.language as tl


@triton.jit
def _softmax_kernel(x_ptr, y_ptr, N, stride_x, stride_y, BLOCK_N: tl.constexpr, ONE_PASS: tl.constexpr):
    row = tl.program_id(0).to(tl.int64)
    x_row = x_ptr + row * stride_x
    y_row = y_ptr + row * stride_y
    cols = tl.arange(0, BLOCK_N)
    if ONE_PASS:
        x = tl.load(x_row + cols, mask=cols < N, other=-float("inf")).to(tl.float32)
        e = tl.exp(x - tl.max(x, 0))
        tl.store(y_row + cols, (e / tl.sum(e, 0)).to(y_ptr.dtype.element_ty), mask=cols < N)
    else:
        # Per-lane running max and rescaled sum; lanes that saw only padding stay at -inf / 0.
        m = tl.full((BLOCK_N,), -float("inf"), tl.float32)
        s = tl.zeros((BLOCK_N,), tl.float32)
        for start in range(0, N, BLOCK_N):
            x = tl.load(x_row + start + cols, mask=start + cols < N, other=-float("inf")).to(tl.float32)
            m_new = tl.maximum(m, x)
            seen = m_new > -float("inf")
            s = tl.where(seen, s * tl.exp(m - m_new) + tl.exp(x - m_new), 0.0)
            m = m_new
        row_max = tl.max(m, 0)
        total = tl.sum(tl.where(m > -float("inf"), s * tl.exp(m - row_max), 0.0), 0)
        for start in range(0, N, BLOCK_N):
            ok = start + cols < N
            x = tl.load(x_row + start + cols, mask=ok, other=-float("inf")).to(tl.float32)
            tl.store(y_row + start + cols, (tl.exp(x - row_max) / total).to(y_ptr.dtype.element_ty), mask=ok)


def softmax(x, out=None, *, BLOCK_N=1024, num_warps=4, num_stages=2):
    """Softmax over the last dimension of a 2-D tensor; writes into ``out`` when given."""
    if x.ndim != 2:
        raise ValueError(f"softmax needs a 2-D tensor (rows, N), got shape {tuple(x.shape)}")
    if x.stride(1) != 1:
        raise ValueError("softmax needs rows stored contiguously (x.stride(1) == 1)")
    if out is None:
        out = torch.empty_like(x)
    if out.shape != x.shape or out.dtype != x.dtype or out.stride(1) != 1:
        raise ValueError(f"out must be a row-contiguous {tuple(x.shape)} {x.dtype} tensor")
    rows, N = x.shape
    _softmax_kernel[(rows,)](x, out, N, x.stride(0), out.stride(0), BLOCK_N=BLOCK_N, ONE_PASS=N <= BLOCK_N,
                             num_warps=num_warps, num_stages=num_stages)
    return out


def reference(x):
    return torch.softmax(x, dim=-1)


def input_shapes(dims):
    return [(dims["rows"], dims["N"])]


def output_shape(dims):
    return (dims["rows"], dims["N"])
