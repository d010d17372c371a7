"""What every Triton target shares, without importing torch or triton.

A Triton target is a light card (this base class: space, problem rules, FLOPs and
bytes, the shapes its candidates are verified at, a launch profile for the GPU
model) plus a self-contained implementation module (``<target>/triton_kernel.py``:
the kernels, a launch wrapper named like the target, the torch reference, the
shapes of its inputs) that only devices load, in their worker processes.
"""

from __future__ import annotations

import importlib.util
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

from tuneforge.core.errors import UserInputError
from tuneforge.core.space import Config, Constraint, Param, Space
from tuneforge.core.types import Problem
from tuneforge.kernels._base import Target

DTYPE_BYTES = {"fp32": 4, "fp16": 2, "bf16": 2}
FLOAT_DTYPES = tuple(DTYPE_BYTES)


@dataclass(frozen=True)
class Tolerance:
    """An output element passes when |out - ref| <= atol * max|ref| + rtol * |ref|.

    atol is relative to the output's scale so that an all-zeros answer cannot pass on
    outputs that are small everywhere (softmax rows of thousands of entries).
    """

    rtol: float
    atol: float


# About four times the rounding of one output element in that dtype (fp16 2^-11, bf16 2^-8)
# plus accumulation-order noise; fp32 is true fp32 (TF32 would fail it).
TOLERANCES = {"fp32": Tolerance(rtol=1e-4, atol=1e-4), "fp16": Tolerance(rtol=2e-3, atol=2e-3),
              "bf16": Tolerance(rtol=1.6e-2, atol=1.6e-2)}


@dataclass(frozen=True)
class GemmProfile:
    """How a tiled GEMM-like config runs: C[M, N] = A[M, K] @ B[K, N], one program per tile and K split."""

    M: int
    N: int
    K: int
    block_m: int
    block_n: int
    block_k: int
    group_m: int
    split_k: int
    num_warps: int
    num_stages: int
    math: str  # tensor-core input type: "fp16", "bf16", or "fp32" (IEEE, no tensor cores)
    a_bytes: float  # bytes per element of A
    b_bytes: float  # bytes per element of B as stored (packed int4 is 0.5), scales included
    c_bytes: float
    dequant_ops: float = 0.0  # extra scalar ops per B element (weight-only quantization)


@dataclass(frozen=True)
class StreamProfile:
    """How a row-streaming config runs: ``ctas`` programs each walk their slice in ``block``-element steps."""

    ctas: int
    num_warps: int
    num_stages: int
    block: int  # elements each program holds per step
    elem_bytes: int
    live_per_elem: int  # fp32 values kept in registers per element of a step
    read_bytes: float  # compulsory reads (each input byte once)
    reread_bytes: float  # further passes over the same data (may hit L2)
    write_bytes: float
    cta_footprint_bytes: float  # bytes one program re-reads; decides whether re-reads stay in L2
    flops: float


LaunchProfile = GemmProfile | StreamProfile


class TritonTarget(Target):
    family = "triton"
    dtypes = FLOAT_DTYPES
    # Fraction of the roofline the vendor library / torch eager reaches at the default problem
    # (used by the GPU model's baseline); each target says where its number comes from.
    vendor_efficiency: ClassVar[float] = 0.5
    # Parameters the reference and the input preparation need besides the shapes.
    reference_params: ClassVar[tuple[str, ...]] = ()
    # The numeric contract, checked on the compiled IR of agent code: every dot product
    # accumulates in at least this type, and fp32 inputs are multiplied as fp32, not TF32.
    accumulator: ClassVar[str] = "fp32"
    allow_tf32: ClassVar[bool] = False
    # Kernel and reference are user code (a submitted bundle): verified only in the candidate sandbox,
    # never baselined by the trusted worker, never imported outside the sandbox.
    untrusted_code: ClassVar[bool] = False

    @property
    def impl_module(self) -> str:
        """The implementation's import name: ``triton_kernel`` in the card's package, unless the card
        sets ``impl_module = "package.module"`` itself (a user's target may put its kernel anywhere)."""
        card = sys.modules[type(self).__module__]
        return f"{card.__package__ or card.__name__}.triton_kernel"

    @property
    def function_name(self) -> str:
        return self.name

    def impl_path(self) -> Path:
        spec = importlib.util.find_spec(self.impl_module)
        assert spec is not None and spec.origin is not None
        return Path(spec.origin)

    def impl_source(self) -> str:
        """The implementation module's text (what the export embeds, and what verdict caches hash)."""
        return self.impl_path().read_text()

    def min_bytes(self, problem: Problem, config: Config) -> float:
        """Bytes any kernel must move for ``config`` at ``problem`` (the roofline's memory side)."""
        return self.bytes(problem) or 0.0

    def math_dtype(self, problem: Problem) -> str:
        """The input type of the heaviest arithmetic (decides the roofline's compute peak)."""
        return "fp32"

    def baseline_of(self, problem: Problem) -> tuple[TritonTarget, Problem]:
        """What the torch baseline runs: this target's reference, unless another op is the fair comparison."""
        return self, problem

    def dtype_bytes(self, problem: Problem) -> int:
        return DTYPE_BYTES[problem.dtype or "fp32"]

    def tolerance(self, problem: Problem) -> Tolerance:
        return TOLERANCES[problem.dtype or "fp32"]

    def kernel_kwargs(self, config: Config) -> dict[str, Any]:
        """Keyword arguments of the launch wrapper for ``config`` (the config itself by default)."""
        return dict(config)

    def check_problems(self, problem: Problem, small: bool) -> list[Problem]:
        """The shapes a candidate is verified at: the primary one, then a second, odd-sized one.

        ``small`` asks for sizes the Triton interpreter handles in about a second.
        """
        primary = self.small_problem(problem) if small else problem
        return [primary, self.odd_problem(problem)]

    def small_problem(self, problem: Problem) -> Problem:
        return Problem(dims=self.small_dims(), dtype=problem.dtype, extra=problem.extra)

    def odd_problem(self, problem: Problem) -> Problem:
        return Problem(dims=self.odd_dims(), dtype=problem.dtype, extra=problem.extra)

    def small_dims(self) -> dict[str, int]:
        """A small shape whose sizes are not multiples of the block sizes (masks get exercised)."""
        raise NotImplementedError

    def odd_dims(self) -> dict[str, int]:
        """A second, differently shaped small problem."""
        raise NotImplementedError

    def launch_profile(self, problem: Problem, config: Config) -> LaunchProfile:
        """How ``config`` uses a GPU at ``problem`` (for the analytical model)."""
        raise NotImplementedError

    def check_even(self, problem: Problem, *names: str) -> None:
        odd = [f"{n}={problem.dims[n]}" for n in names if problem.dims[n] % 2]
        if odd:
            raise UserInputError(f"{self.name} needs even {', '.join(names)}; change {', '.join(odd)}")


def pow2_values(low: int, high: int) -> tuple[int, ...]:
    values, v = [], low
    while v <= high:
        values.append(v)
        v *= 2
    return tuple(values)


def row_block_space(row_length: int, max_block: int) -> Space:
    """The space of a row-wise kernel: a block over the row, warps and stages; no block longer than
    the row padded to a power of two."""
    fit = max(128, next_pow2(row_length))
    return Space(
        params=[Param("BLOCK_N", pow2_values(128, max_block)), Param("num_warps", (1, 2, 4, 8, 16, 32)),
                Param("num_stages", (1, 2, 3, 4))],
        constraints=[Constraint(f"BLOCK_N <= {fit} (no block larger than the padded row)",
                                lambda c: c["BLOCK_N"] <= fit)])


def next_pow2(n: int) -> int:
    return 1 << max(0, (n - 1).bit_length())


def cdiv(a: int, b: int) -> int:
    return -(-a // b)
