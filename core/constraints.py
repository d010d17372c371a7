"""Constraints on a trial's metrics, written as ``metric<=bound`` (also ``<``, ``>=``, ``>``)."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from tuneforge.core.errors import UserInputError

_FORM = re.compile(r"^\s*([A-Za-z_][A-Za-z0-9_]*)\s*(<=|>=|<|>)\s*([-+0-9.eE]+)\s*$")


@dataclass(frozen=True)
class MetricConstraint:
    metric: str
    op: str
    bound: float

    @classmethod
    def parse(cls, text: str) -> MetricConstraint:
        match = _FORM.match(text)
        if not match:
            raise UserInputError(f"malformed constraint {text!r}: write METRIC<=NUMBER (or >=, <, >), "
                                 "e.g. area_mm2<=2.0")
        try:
            bound = float(match.group(3))
        except ValueError:
            raise UserInputError(f"constraint {text!r} needs a number after {match.group(2)}") from None
        return cls(match.group(1), match.group(2), bound)

    def __str__(self) -> str:
        return f"{self.metric}{self.op}{self.bound:g}"

    def violation(self, metrics: dict[str, float]) -> float:
        """How far the metrics are outside the bound: <= 0 when satisfied (Optuna's convention)."""
        value = metrics.get(self.metric)
        if value is None or not math.isfinite(value):
            return math.inf
        gap = value - self.bound if self.op in ("<=", "<") else self.bound - value
        return gap if self.op in ("<=", ">=") else (gap if gap != 0 else 1e-12)

    def satisfied(self, metrics: dict[str, float]) -> bool:
        return self.violation(metrics) <= 0
