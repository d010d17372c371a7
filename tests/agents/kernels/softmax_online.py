import torch
import triton
import triton.language as tl


@triton.jit
def _online_softmax(x_ptr, y_ptr, N, stride, BLOCK_N: tl.constexpr):
    row = tl.program_id(0).to(tl.int64)
    cols = tl.arange(0, BLOCK_N)
    m = tl.full((BLOCK_N,), -float("inf"), tl.float32)
    s = tl.zeros((BLOCK_N,), tl.float32)
    for start in range(0, N, BLOCK_N):
        x = tl.load(x_ptr + row * stride + start + cols, mask=start + cols < N, other=-float("inf"))
        m_new = tl.maximum(m, x)
        s = tl.where(m_new > -float("inf"), s * tl.exp(m - m_new) + tl.exp(x - m_new), 0.0)
        m = m_new
    row_max = tl.max(m, 0)
    total = tl.sum(tl.where(m > -float("inf"), s * tl.exp(m - row_max), 0.0), 0)
    for start in range(0, N, BLOCK_N):
        ok = start + cols < N
        x = tl.load(x_ptr + row * stride + start + cols, mask=ok, other=-float("inf"))
        tl.store(y_ptr + row * stride + start + cols, tl.exp(x - row_max) / total, mask=ok)


def softmax(x, out=None, *, BLOCK_N=256, num_warps=4, num_stages=2):
    if out is None:
        out = torch.empty_like(x)
    rows, N = x.shape
    _online_softmax[(rows,)](x, out, N, x.stride(0), BLOCK_N=BLOCK_N, num_warps=num_warps)
    return out
