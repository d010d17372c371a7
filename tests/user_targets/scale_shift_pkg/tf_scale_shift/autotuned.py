"""The same kernel as the author first wrote it: plain triton.autotune with a hand-picked config list."""

import triton
import triton.language as tl


@triton.autotune(configs=[triton.Config({"BLOCK_N": 128}, num_warps=1, num_stages=1),
                          triton.Config({"BLOCK_N": 512}, num_warps=4, num_stages=2),
                          triton.Config({"BLOCK_N": 1024}, num_warps=8, num_stages=1)],
                 key=["N"])
@triton.jit
def scale_shift_kernel(x_ptr, y_ptr, N, stride, BLOCK_N: tl.constexpr):
    row = tl.program_id(0).to(tl.int64)
    for start in range(0, N, BLOCK_N):
        cols = start + tl.arange(0, BLOCK_N)
        x = tl.load(x_ptr + row * stride + cols, mask=cols < N)
        tl.store(y_ptr + row * stride + cols, x * 2 + 1, mask=cols < N)
