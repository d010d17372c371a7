import torch
import triton
import triton.language as tl


@triton.autotune(configs=[triton.Config({"BLOCK": 128}, num_warps=4), triton.Config({"BLOCK": 512}, num_warps=8)],
                 key=["N"])
@triton.jit
def _softmax_rows(x_ptr, y_ptr, N, stride, BLOCK: tl.constexpr):
    row = tl.program_id(0)
    cols = tl.arange(0, BLOCK)
    row_max = -float("inf")
    for start in range(0, N, BLOCK):
        x = tl.load(x_ptr + row * stride + start + cols, mask=start + cols < N, other=-float("inf"))
        row_max = tl.maximum(row_max, tl.max(x, 0))
    total = 0.0
    for start in range(0, N, BLOCK):
        x = tl.load(x_ptr + row * stride + start + cols, mask=start + cols < N, other=-float("inf"))
        total += tl.sum(tl.exp(x - row_max), 0)
    for start in range(0, N, BLOCK):
        x = tl.load(x_ptr + row * stride + start + cols, mask=start + cols < N, other=-float("inf"))
        tl.store(y_ptr + row * stride + start + cols, tl.exp(x - row_max) / total, mask=start + cols < N)


def softmax(x, out=None, **config):
    rows, N = x.shape
    _softmax_rows[(rows,)](x, out, N, x.stride(0))
    return out
