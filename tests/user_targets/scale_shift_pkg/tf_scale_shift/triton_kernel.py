"""The implementation tuneforge's workers load: kernel, launch wrapper named like the target, reference."""

import torch
import triton
import triton.language as tl


@triton.jit
def _scale_shift_kernel(x_ptr, y_ptr, N, stride, BLOCK_N: tl.constexpr):
    row = tl.program_id(0).to(tl.int64)
    for start in range(0, N, BLOCK_N):
        cols = start + tl.arange(0, BLOCK_N)
        x = tl.load(x_ptr + row * stride + cols, mask=cols < N)
        tl.store(y_ptr + row * stride + cols, x * 2 + 1, mask=cols < N)


def scale_shift(x, out=None, *, BLOCK_N=256, num_warps=4, num_stages=1):
    out = torch.empty_like(x) if out is None else out
    rows, n = x.shape
    _scale_shift_kernel[(rows,)](x, out, n, x.stride(0), BLOCK_N=BLOCK_N, num_warps=num_warps,
                                 num_stages=num_stages)
    return out


def reference(x):
    return x * 2 + 1


def input_shapes(dims):
    return [(dims["rows"], dims["N"])]


def output_shape(dims):
    return (dims["rows"], dims["N"])
