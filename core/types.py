"""The shared vocabulary: problems, candidates, trial results, objectives.

Everything here is plain data that crosses process boundaries as JSON (Celery
tasks, the embedded process pool, the database), so each type has
``to_dict``/``from_dict``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from tuneforge.core.errors import UserInputError


class TrialStatus(StrEnum):
    OK = "ok"
    INVALID = "invalid"
    COMPILE_ERROR = "compile_error"
    WRONG_RESULT = "wrong_result"
    TIMEOUT = "timeout"
    CRASHED = "crashed"


class Provenance(StrEnum):
    """Where a number comes from. Shown next to every number we display."""

    MEASURED = "measured"  # timed now, on real hardware
    REPLAYED = "replayed"  # measured earlier on real hardware, read back from a recorded space
    MODELLED = "modelled"  # predicted by an analytical model or simulator
    VERIFIED_ONLY = "verified-only"  # correctness checked, no timing worth reporting


class JobStatus(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"

    @property
    def finished(self) -> bool:
        return self in (JobStatus.SUCCEEDED, JobStatus.FAILED, JobStatus.CANCELLED)


@dataclass(frozen=True)
class Objective:
    metric: str
    direction: str = "minimize"  # or "maximize"

    def __post_init__(self) -> None:
        if self.direction not in ("minimize", "maximize"):
            raise UserInputError(f"objective direction must be 'minimize' or 'maximize', not {self.direction!r}")

    def better(self, a: float, b: float) -> bool:
        return a < b if self.direction == "minimize" else a > b


@dataclass(frozen=True)
class Problem:
    """A target at one concrete size: integer dims, an optional dtype, optional named extras
    (a workload or model name for the accelerator and quantization families)."""

    dims: dict[str, int] = field(default_factory=dict)
    dtype: str | None = None
    extra: dict[str, str] = field(default_factory=dict)

    def key(self) -> str:
        """Canonical text used as the database key of a problem."""
        parts = [",".join(f"{k}={v}" for k, v in self.dims.items())]
        if self.dtype:
            parts.append(self.dtype)
        parts += [f"{k}={v}" for k, v in sorted(self.extra.items())]
        return " ".join(p for p in parts if p) or "default"

    def to_dict(self) -> dict[str, Any]:
        return {"dims": dict(self.dims), "dtype": self.dtype, "extra": dict(self.extra)}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Problem:
        return cls(dims={k: int(v) for k, v in (data.get("dims") or {}).items()},
                   dtype=data.get("dtype"), extra=dict(data.get("extra") or {}))


def parse_shape(text: str | None) -> dict[str, int]:
    """Parse ``M=4096,N=4096`` into ``{"M": 4096, "N": 4096}`` with an error naming the fix."""
    if not text:
        return {}
    dims: dict[str, int] = {}
    for item in text.split(","):
        name, sep, value = item.strip().partition("=")
        if not sep or not name.strip() or not value.strip().lstrip("-").isdigit():
            raise UserInputError(
                f"malformed shape item {item.strip()!r}: write the shape as NAME=INT pairs separated by commas, "
                "e.g. --shape M=4096,N=4096,K=4096")
        if name.strip() in dims:
            raise UserInputError(f"shape names {name.strip()!r} twice: give each dimension once")
        dims[name.strip()] = int(value)
    return dims


@dataclass
class Candidate:
    """One point of a space, or an agent's kernel source plus a point."""

    params: dict[str, Any]
    source: str | None = None
    origin: str = "search"  # which strategy or agent proposed it, or "warm-start"
    note: str = ""  # a one-line reason, e.g. from an agent

    def to_dict(self) -> dict[str, Any]:
        return {"params": dict(self.params), "source": self.source, "origin": self.origin, "note": self.note}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Candidate:
        return cls(params=dict(data["params"]), source=data.get("source"),
                   origin=data.get("origin", "search"), note=data.get("note", ""))


@dataclass
class TrialResult:
    """What evaluating one candidate on one device returned. Failures are results too."""

    status: TrialStatus
    metrics: dict[str, float] = field(default_factory=dict)
    provenance: Provenance = Provenance.MEASURED
    device_name: str = ""
    cost_s: float = 0.0  # seconds charged against the job's time budget
    timings: dict[str, float] = field(default_factory=dict)  # compile_s, verify_s, bench_s, ...
    log: str = ""

    @property
    def ok(self) -> bool:
        return self.status == TrialStatus.OK

    def objective_values(self, objectives: list[Objective]) -> list[float] | None:
        """Values in objective order, or None when the trial failed or a metric is missing."""
        if not self.ok:
            return None
        values = [self.metrics.get(o.metric) for o in objectives]
        if any(v is None or not math.isfinite(v) for v in values):
            return None
        return [float(v) for v in values]

    def to_dict(self) -> dict[str, Any]:
        return {"status": str(self.status), "metrics": dict(self.metrics), "provenance": str(self.provenance),
                "device_name": self.device_name, "cost_s": self.cost_s, "timings": dict(self.timings),
                "log": self.log}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TrialResult:
        return cls(status=TrialStatus(data["status"]), metrics=dict(data.get("metrics") or {}),
                   provenance=Provenance(data.get("provenance", "measured")),
                   device_name=data.get("device_name", ""), cost_s=float(data.get("cost_s", 0.0)),
                   timings=dict(data.get("timings") or {}), log=data.get("log", ""))

    @classmethod
    def failure(cls, status: TrialStatus, log: str, **kwargs: Any) -> TrialResult:
        return cls(status=status, log=log[-4000:], **kwargs)
