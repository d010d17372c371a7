import torch
import triton
import triton.language as tl


@triton.jit
def _row_scale_kernel(x_ptr, s_ptr, y_ptr, N, stride, BLOCK_N: tl.constexpr):
    row = tl.program_id(0).to(tl.int64)
    for start in range(0, N, BLOCK_N):
        cols = start + tl.arange(0, BLOCK_N)
        mask = cols < N
        x = tl.load(x_ptr + row * stride + cols, mask=mask)
        s = tl.load(s_ptr + cols, mask=mask)
        tl.store(y_ptr + row * stride + cols, x * s, mask=mask)


def row_scale(x, s, out, BLOCK_N=256, num_warps=4, num_stages=1):
    rows, n = x.shape
    _row_scale_kernel[(rows,)](x, s, out, n, x.stride(0), BLOCK_N=BLOCK_N, num_warps=num_warps,
                               num_stages=num_stages)
    return out
