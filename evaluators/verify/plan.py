"""What to verify and what came out: plain data that crosses into the worker process as JSON.

Light (no torch): the parent builds a :class:`VerifyRequest`, the worker answers a :class:`Verdict`.
"""

from __future__ import annotations

import random
from dataclasses import asdict, dataclass, field
from typing import Any

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


def build_checks(target: TritonTarget, problem: Problem, *, small: bool, rng: random.Random) -> tuple[Check, ...]:
    """Two seeds at the primary shape and one at a second, odd shape; fresh seeds every time."""
    primary, odd = target.check_problems(problem, small=small)
    shapes = (primary, primary, odd)
    dtype = problem.dtype or "fp32"
    return tuple(Check(dims=dict(p.dims), dtype=dtype, seed=rng.randrange(2**31), distribution=dist)
                 for p, dist in zip(shapes, DISTRIBUTIONS))


def build_request(target: TritonTarget, problem: Problem, config: Config, *, device: str, small: bool,
                  rng: random.Random, source: str | None = None, timing: TimingRequest | None = None,
                  time_reference: bool = False) -> VerifyRequest:
    tolerance = target.tolerance(problem)
    return VerifyRequest(
        target=target.name, impl_module=target.impl_module, function=target.function_name,
        kernel_kwargs=target.kernel_kwargs(config),
        reference_kwargs={k: config[k] for k in target.reference_params},
        checks=build_checks(target, problem, small=small, rng=rng), rtol=tolerance.rtol, atol=tolerance.atol,
        device=device, source=source, timing=timing, time_reference=time_reference)
