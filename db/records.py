"""What the job store returns: typed, immutable records of jobs, trials, best configs and workers.

They are read from the database rows field by field, so a record never holds a live session object
and can cross a thread or a process boundary. Timestamps are always timezone-aware (UTC): SQLite
hands them back naive.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import datetime, timezone
from typing import Any, TypeVar

from tuneforge.core.types import JobStatus, Objective

R = TypeVar("R")


def utc(value: datetime | None) -> datetime | None:
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=timezone.utc)


def from_row(cls: type[R], row: Any) -> R:
    """The record of type ``cls`` holding the like-named attributes of a database row."""
    values = {f.name: getattr(row, f.name) for f in fields(cls)}
    return cls(**{k: utc(v) if isinstance(v, datetime) else v for k, v in values.items()})


@dataclass(frozen=True, slots=True)
class JobRecord:
    id: str
    account: str | None
    target: str
    family: str
    problem: dict[str, Any]
    problem_key: str
    device: str
    strategy: str
    objectives: list[dict[str, Any]]
    constraints: list[str]
    budget_trials: int
    budget_seconds: float | None
    parallelism: int
    seed: int
    options: dict[str, Any]
    status: str
    error: str | None
    n_trials: int
    spent_seconds: float
    best_value: float | None
    best_trial: int | None
    baseline: dict[str, Any] | None
    result: dict[str, Any] | None
    transfer: list[dict[str, Any]] | None
    owner: str | None
    heartbeat_at: datetime | None
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    bundle_sha256: str | None = None  # the submitted bundle the job tunes

    @property
    def finished(self) -> bool:
        return JobStatus(self.status).finished

    @property
    def objective_list(self) -> list[Objective]:
        return [Objective(**o) for o in self.objectives]


@dataclass(frozen=True, slots=True)
class TrialRecord:
    job_id: str
    number: int
    params: dict[str, Any]
    source: str | None
    origin: str
    note: str
    status: str
    metrics: dict[str, Any]
    values: list[float] | None
    feasible: bool
    provenance: str
    device_name: str
    cost_s: float
    timings: dict[str, Any]
    log: str
    worker: str | None
    created_at: datetime
    bundle_sha256: str | None = None  # the bundle whose code the trial ran


@dataclass(frozen=True, slots=True)
class BestConfigRecord:
    target: str
    family: str
    problem_key: str
    problem: dict[str, Any]
    device: str
    device_name: str
    params: dict[str, Any]
    source: str | None
    metric: str
    value: float
    metrics: dict[str, Any]
    baseline: dict[str, Any] | None
    provenance: str
    strategy: str
    job_id: str
    trial_number: int
    seed: int
    versions: dict[str, Any]
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class WorkerRecord:
    name: str
    queues: list[str]
    hostname: str
    info: dict[str, Any]
    last_seen: datetime


@dataclass(frozen=True, slots=True)
class AgentCallRecord:
    id: int
    job_id: str
    agent: str
    strategy: str
    model: str
    messages: list[dict[str, Any]]
    response: str
    error: str | None
    prompt_tokens: int
    completion_tokens: int
    cost_usd: float
    latency_s: float
    proposals: list[dict[str, Any]]  # each queued one joined to its trial: ``trial``, ``trial_status``, ``values``
    created_at: datetime


@dataclass(frozen=True, slots=True)
class Usage:
    """What an account (or one of its keys) holds now and spent in the last day."""

    active_jobs: int  # queued + running
    trials_today: int  # trial budgets of the jobs submitted in the last 24 h
    device_seconds_today: float  # device time those jobs charged


@dataclass(frozen=True, slots=True)
class SubmitUsage:
    account: Usage
    key: Usage | None  # None: the job comes with no key (an open server, the local CLI)
