"""Fresh random inputs for a check (runs in the worker; imports torch)."""

from __future__ import annotations

from types import ModuleType

import torch

from tuneforge.evaluators.verify.plan import Check

TORCH_DTYPES = {"fp32": torch.float32, "fp16": torch.float16, "bf16": torch.bfloat16}


def random_tensor(shape: tuple[int, ...], check: Check, index: int, device: str) -> torch.Tensor:
    gen = torch.Generator(device="cpu").manual_seed(check.seed * 7919 + index)
    if check.distribution == "offset":
        values = torch.rand(shape, generator=gen) * 2.0 + 3.0
    elif check.distribution == "wide":
        values = torch.randn(shape, generator=gen) * 10.0
    else:
        values = torch.randn(shape, generator=gen)
    return values.to(device=device, dtype=TORCH_DTYPES[check.dtype])


def make_inputs(impl: ModuleType, check: Check, reference_kwargs: dict, device: str) -> tuple[torch.Tensor, ...]:
    """The kernel's inputs for ``check``: random floats, then the target's own preparation (e.g. quantization)."""
    tensors = tuple(random_tensor(tuple(shape), check, i, device)
                    for i, shape in enumerate(impl.input_shapes(check.dims)))
    prepare = getattr(impl, "prepare_inputs", None)
    return tuple(prepare(*tensors, **reference_kwargs)) if prepare else tensors


def empty_output(impl: ModuleType, check: Check, device: str) -> torch.Tensor:
    """The output buffer, poisoned with NaN so that anything the candidate leaves unwritten shows."""
    return torch.full(tuple(impl.output_shape(check.dims)), float("nan"), dtype=TORCH_DTYPES[check.dtype],
                      device=device)
