"""The candidate's host code under a torch dispatch mode: memory and layout, never compute.

Every aten operator the candidate's wrapper reaches, whatever name or alias it was called by
(``torch.matmul``, ``torch.Tensor.matmul``, ``a @ b``, ``getattr(torch, ...)``), arrives here.
Allocation, fill, copy, views and metadata pass; anything else raises :class:`LibraryCompute`
and is remembered, so a candidate that swallows the exception is still rejected. Fresh
floating-point allocations are filled with NaN, so memory left over from earlier work cannot
pass for an answer. Triton's launches (GPU kernels, or the interpreter's copies) use only the
allowed operators.
"""

from __future__ import annotations

import torch
from torch.utils._python_dispatch import TorchDispatchMode

ALLOCATION = {"empty", "empty_strided", "empty_like", "new_empty", "new_empty_strided", "zeros", "zeros_like",
              "ones", "ones_like", "full", "full_like", "new_zeros", "new_ones", "new_full", "scalar_tensor"}
FILL_AND_COPY = {"fill_", "zero_", "copy_", "clone", "contiguous", "_to_copy", "lift_fresh", "lift_fresh_copy",
                 "set_", "resize_"}
VIEWS = {"view", "_unsafe_view", "reshape", "as_strided", "t", "transpose", "permute", "expand", "squeeze",
         "unsqueeze", "slice", "select", "detach", "alias", "flatten", "unflatten", "split", "chunk", "narrow",
         "unbind", "view_as", "expand_as", "_reshape_alias", "movedim"}
METADATA = {"sym_size", "sym_stride", "sym_numel", "sym_storage_offset", "is_contiguous", "size", "stride",
            "dim", "numel", "is_same_size"}
ALLOWED = ALLOCATION | FILL_AND_COPY | VIEWS | METADATA
_POISONED = {"empty", "empty_strided", "empty_like", "new_empty", "new_empty_strided"}


class LibraryCompute(RuntimeError):
    def __init__(self, op: str) -> None:
        super().__init__(f"torch operator {op} computes with a library; host code may only allocate, fill, "
                         "copy and view tensors and launch Triton kernels")
        self.op = op


class HostCodePolicy(TorchDispatchMode):
    """Use as ``with HostCodePolicy() as policy: ...``; ``policy.rejected`` lists what was refused."""

    def __init__(self) -> None:
        super().__init__()
        self.rejected: list[str] = []

    @classmethod
    def _should_skip_dynamo(cls) -> bool:
        return False  # nothing here is compiled; wrapping for dynamo would import it (seconds per process)

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        name = func.overloadpacket.__name__
        if name not in ALLOWED:
            self.rejected.append(str(func))
            raise LibraryCompute(str(func))
        result = func(*args, **(kwargs or {}))
        if name in _POISONED and isinstance(result, torch.Tensor) and result.is_floating_point():
            result.fill_(float("nan"))
        return result
