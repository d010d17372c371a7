"""The target interface: a thing that can be tuned.

A target module must import without torch or triton (the API validates jobs
against targets and never imports either); heavy parts (Triton kernels, torch
references, models) are loaded lazily by the target's own methods.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any, ClassVar

from tuneforge.core.errors import UserInputError
from tuneforge.core.space import Space
from tuneforge.core.types import Objective, Problem


class Target(ABC):
    name: ClassVar[str]
    family: ClassVar[str]  # "triton", "replay", "accel", "quant", ...
    description: ClassVar[str] = ""
    # Every objective the target can report; a job picks some by metric name, the first is the default.
    objectives: ClassVar[tuple[Objective, ...]] = (Objective("time_ms", "minimize"),)
    # Constraints on metrics every job of this target obeys, e.g. "accuracy_drop_rel<=0.01".
    default_constraints: ClassVar[tuple[str, ...]] = ()
    dims: ClassVar[tuple[str, ...]] = ()  # names a problem's shape must give
    dtypes: ClassVar[tuple[str, ...]] = ()  # accepted dtypes; empty = the target takes no dtype
    extras: ClassVar[dict[str, tuple[str, ...]]] = {}  # named options (e.g. workload) and their allowed values

    @abstractmethod
    def default_problem(self) -> Problem:
        """The problem used when a job gives no shape."""

    @abstractmethod
    def space(self, problem: Problem) -> Space:
        """The tuning space at this problem (constraints may depend on the shape)."""

    def check_problem(self, problem: Problem) -> None:
        """Raise UserInputError naming what to change when the shape is illegal for this target."""

    def parse_problem(self, dims: dict[str, int] | None = None, dtype: str | None = None,
                      extra: dict[str, str] | None = None) -> Problem:
        """Fill unspecified parts from the default problem and validate the rest."""
        default = self.default_problem()
        dims = dict(dims or {})
        unknown = [d for d in dims if d not in self.dims]
        if unknown:
            raise UserInputError(f"target {self.name!r} has no dimension(s) {unknown}; "
                                 f"its shape is {','.join(f'{d}=INT' for d in self.dims) or 'fixed'}")
        bad = [f"{k}={v}" for k, v in dims.items() if v <= 0]
        if bad:
            raise UserInputError(f"shape sizes must be positive integers, got {', '.join(bad)}")
        merged_dims = {d: dims.get(d, default.dims.get(d)) for d in self.dims}
        if dtype is not None and dtype not in self.dtypes:
            raise UserInputError(f"target {self.name!r} takes dtype {' | '.join(self.dtypes) or '(none)'}, "
                                 f"not {dtype!r}")
        merged_extra = dict(default.extra)
        for key, value in (extra or {}).items():
            if key not in self.extras:
                raise UserInputError(f"target {self.name!r} has no option {key!r}")
            if self.extras[key] and value not in self.extras[key]:
                raise UserInputError(f"{key} must be one of {', '.join(self.extras[key])}, not {value!r}")
            merged_extra[key] = value
        problem = Problem(dims=merged_dims, dtype=dtype or default.dtype, extra=merged_extra)
        self.check_problem(problem)
        return problem

    def flops(self, problem: Problem) -> float | None:
        return None

    def bytes(self, problem: Problem) -> float | None:
        return None

    def describe(self) -> dict[str, Any]:
        default = self.default_problem()
        return {"name": self.name, "family": self.family, "description": self.description,
                "dims": list(self.dims), "dtypes": list(self.dtypes),
                "extras": {k: list(v) for k, v in self.extras.items()},
                "objectives": [{"metric": o.metric, "direction": o.direction} for o in self.objectives],
                "default_problem": default.to_dict(), "space": self.space(default).describe()}
