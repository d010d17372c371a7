"""What to verify and what came out: plain data that crosses into the worker process as JSON.

Light (no torch): the parent builds a :class:`VerifyRequest`, the worker answers a :class:`Verdict`.
"""

from __future__ import annotations

import random
from dataclasses import asdict, dataclass, field
from typing import Any

from tuneforge.core.errors import UserInputError
from tuneforge.core.space import Config
from tuneforge.core.types import Problem, TrialStatus
from tuneforge.kernels._triton_common import TritonTarget

# Input distributions, cycled over the checks: plain normal; uniform around an offset (catches
# kernels that drop the mean, e.g. a layernorm that copies its input); wide normal (catches
# narrow accumulators and overflow).
DISTRIBUTIONS = ("normal", "offset", "wide")


@dataclass(frozen=True)
class Check:
    dims: dict[str, int]
    dtype: str
    seed: int
    distribution: str


@dataclass(frozen=True)
class TimingRequest:
    dims: dict[str, int]
    dtype: str
    gpu_index: int = 0
    warmup_ms: float = 25.0
    rep_ms: float = 100.0
    flush_bytes: int = 256 * 1024 * 1024  # written between runs: twice the largest L2 we time on


@dataclass(frozen=True)
class VerifyRequest:
    target: str
    impl_module: str  # the trusted module with the reference and input shapes
    function: str
    kernel_kwargs: dict[str, Any]
    reference_kwargs: dict[str, Any]
    checks: tuple[Check, ...]
    rtol: float
    atol: float
    device: str  # "cpu" (Triton interpreter) or "cuda"
    source: str | None = None  # a candidate's own module text; None runs the target's implementation
    timing: TimingRequest | None = None
    time_reference: bool = False  # time the torch reference instead of the candidate (baselines)
    accumulator: str = "fp32"  # the target's numeric contract: dot products accumulate at least this wide
    allow_tf32: bool = False

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> VerifyRequest:
        data = dict(data)
        data["checks"] = tuple(Check(**c) for c in data["checks"])
        data["timing"] = TimingRequest(**data["timing"]) if data.get("timing") else None
        return cls(**data)


class RuleFailed(Exception):
    """A verification rule failed: ``rule`` names it, ``status`` is the trial status it implies."""

    def __init__(self, status: TrialStatus, rule: str, message: str) -> None:
        super().__init__(message)
        self.status, self.rule, self.message = status, rule, message


@dataclass
class Verdict:
    """The outcome: ``status`` is a TrialStatus value, ``rule`` names the verification rule that failed."""

    status: str
    rule: str = ""
    message: str = ""
    checks: list[dict[str, Any]] = field(default_factory=list)
    compile_s: float = 0.0
    verify_s: float = 0.0
    timing: dict[str, Any] | None = None
    cached: bool = False  # answered from the verdict cache, nothing ran

    @property
    def passed(self) -> bool:
        return self.status == TrialStatus.OK

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Verdict:
        return cls(**data)

    @classmethod
    def fail(cls, status: TrialStatus, rule: str, message: str, **kwargs: Any) -> Verdict:
        return cls(status=str(status), rule=rule, message=message, **kwargs)


def fresh_dims(target: TritonTarget, problem: Problem, base: dict[str, int], rng: random.Random, *,
               odd: bool) -> dict[str, int]:
    """``base`` with each size redrawn within a quarter of it (odd where ``odd`` and the target allows),
    one size at a time so that every size the target accepts changes."""
    dims = dict(base)
    for name in rng.sample(sorted(dims), len(dims)):
        for _ in range(8):
            value = rng.randint(max(1, (3 * base[name]) // 4), (5 * base[name]) // 4 + 1)
            value = value | 1 if odd else value
            try:
                target.check_problem(Problem(dims={**dims, name: value}, dtype=problem.dtype, extra=problem.extra))
            except UserInputError:
                continue
            dims[name] = value
            break
    return dims


def build_checks(target: TritonTarget, problem: Problem, *, small: bool, rng: random.Random,
                 fresh_shapes: bool = False) -> tuple[Check, ...]:
    """Two seeds at the primary shape and one at a second, odd shape; fresh seeds every time.

    ``fresh_shapes`` also draws the shapes for this request (a candidate cannot know them in advance).
    """
    primary, odd = target.check_problems(problem, small=small)
    dims = [dict(primary.dims), dict(odd.dims)]
    if fresh_shapes:
        dims = [fresh_dims(target, problem, dims[0], rng, odd=False), fresh_dims(target, problem, dims[1], rng,
                                                                                  odd=True)]
    shapes = (dims[0], dims[0], dims[1])
    dtype = problem.dtype or "fp32"
    return tuple(Check(dims=dict(d), dtype=dtype, seed=rng.randrange(2**31), distribution=dist)
                 for d, dist in zip(shapes, DISTRIBUTIONS))


def build_request(target: TritonTarget, problem: Problem, config: Config, *, device: str, small: bool,
                  rng: random.Random, source: str | None = None, timing: TimingRequest | None = None,
                  time_reference: bool = False, fresh_shapes: bool = False) -> VerifyRequest:
    tolerance = target.tolerance(problem)
    return VerifyRequest(
        target=target.name, impl_module=target.impl_module, function=target.function_name,
        kernel_kwargs=target.kernel_kwargs(config),
        reference_kwargs={k: config[k] for k in target.reference_params},
        checks=build_checks(target, problem, small=small, rng=rng, fresh_shapes=fresh_shapes), rtol=tolerance.rtol,
        atol=tolerance.atol, device=device, source=source, timing=timing, time_reference=time_reference,
        accumulator=target.accumulator, allow_tf32=target.allow_tf32)
