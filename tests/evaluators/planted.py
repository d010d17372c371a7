"""Wrong kernels planted into the real implementations: each must fail for its own reason."""

from __future__ import annotations

from tuneforge.kernels.registry import get_target


def mutate(target_name: str, old: str, new: str) -> str:
    source = get_target(target_name).impl_source()
    assert source.count(old) == 1, f"{old!r} must occur once in {target_name}'s kernel"
    return source.replace(old, new)


MATMUL_STORE_MASK = "mask=(offs_m[:, None] < M) & (offs_n[None, :] < N))"
MATMUL_DOT = 'acc = tl.dot(a.to(tl.float32), b.to(tl.float32), acc, input_precision="ieee")'

# name -> (target, source, the rule that must catch it)
PLANTED = {
    "off-by-one load mask": ("matmul", lambda: mutate(
        "matmul", "k_ok = (k0 + tl.arange(0, BLOCK_K)) < K", "k_ok = (k0 + tl.arange(0, BLOCK_K)) < K - 1"),
        "mismatch"),
    "off-by-one store mask": ("matmul", lambda: mutate(
        "matmul", MATMUL_STORE_MASK, "mask=(offs_m[:, None] < M - 1) & (offs_n[None, :] < N))"),
        "output-not-written"),
    "partial write": ("matmul", lambda: mutate(
        "matmul", MATMUL_STORE_MASK, "mask=(offs_m[:, None] < M) & (offs_n[None, :] < N // 2))"),
        "output-not-written"),
    "bf16 accumulator": ("matmul", lambda: mutate(
        "matmul", MATMUL_DOT,
        'acc = (acc + tl.dot(a.to(tl.float32), b.to(tl.float32), input_precision="ieee"))'
        '.to(tl.bfloat16).to(tl.float32)'), "mismatch"),
    "fp16 operands for fp32": ("matmul", lambda: mutate(
        "matmul", MATMUL_DOT, "acc = tl.dot(a.to(tl.float16), b.to(tl.float16), acc)"), "mismatch"),
    "fresh output instead of out": ("matmul", lambda: mutate(
        "matmul", "    if split_k > 1:\n", "    out = out.clone()\n    if split_k > 1:\n"), "output-not-returned"),
    "input mutated": ("matmul", lambda: mutate(
        "matmul", "    return out\n\n\ndef _dot_in_fp32", "    a.zero_()\n    return out\n\n\ndef _dot_in_fp32"),
        "inputs-modified"),
    "softmax returns zeros": ("softmax", lambda: mutate(
        "softmax", "    rows, N = x.shape\n", "    return out.zero_()\n    rows, N = x.shape\n"), "mismatch"),
    "layernorm copies its input": ("layernorm", lambda: mutate(
        "layernorm", "    rows, N = x.shape\n", "    return out.copy_(x)\n    rows, N = x.shape\n"), "mismatch"),
    "rmsnorm forgets eps": ("rmsnorm", lambda: mutate(
        "rmsnorm", "rms = tl.sqrt(tl.sum(x * x, 0) / C + eps)", "rms = tl.sqrt(tl.sum(x * x, 0) / (C + 1))"),
        "mismatch"),
    "int4 nibbles swapped": ("quant_matmul", lambda: mutate(
        "quant_matmul", "w = (((byte >> ((offs_k % 2) * 4)[:, None]) & 0xF) - 8).to(tl.float32)",
        "w = (((byte >> ((1 - offs_k % 2) * 4)[:, None]) & 0xF) - 8).to(tl.float32)"), "mismatch"),
    "syntax error": ("matmul", lambda: get_target("matmul").impl_source() + "\ndef broken(:\n", "import"),
}
