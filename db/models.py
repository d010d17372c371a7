"""Typed SQLAlchemy 2 models. Works on SQLite (embedded) and PostgreSQL (distributed)."""

from __future__ import annotations

import uuid
from datetime import datetime, timezone
from typing import Any

from sqlalchemy import JSON, DateTime, Float, ForeignKey, Integer, String, Text, UniqueConstraint, select
from sqlalchemy.orm import DeclarativeBase, Mapped, column_property, mapped_column, relationship


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def new_id() -> str:
    return uuid.uuid4().hex[:12]


class Base(DeclarativeBase):
    type_annotation_map = {dict[str, Any]: JSON, list[Any]: JSON, datetime: DateTime(timezone=True)}


class Job(Base):
    __tablename__ = "jobs"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    target: Mapped[str] = mapped_column(String(128), index=True)
    family: Mapped[str] = mapped_column(String(32))
    problem: Mapped[dict[str, Any]]
    problem_key: Mapped[str] = mapped_column(String(256))
    device: Mapped[str] = mapped_column(String(512))
    strategy: Mapped[str] = mapped_column(String(64))
    objectives: Mapped[list[Any]]  # [{"metric": ..., "direction": ...}]
    constraints: Mapped[list[Any]]  # ["area_mm2<=2.0", ...]
    budget_trials: Mapped[int] = mapped_column(Integer)
    budget_seconds: Mapped[float | None] = mapped_column(Float)
    parallelism: Mapped[int] = mapped_column(Integer, default=1)
    seed: Mapped[int] = mapped_column(Integer)
    options: Mapped[dict[str, Any]] = mapped_column(default=dict)
    status: Mapped[str] = mapped_column(String(16), index=True, default="queued")
    error: Mapped[str | None] = mapped_column(Text)
    n_trials: Mapped[int] = mapped_column(Integer, default=0)
    spent_seconds: Mapped[float] = mapped_column(Float, default=0.0)
    best_value: Mapped[float | None] = mapped_column(Float)
    best_trial: Mapped[int | None] = mapped_column(Integer)
    baseline: Mapped[dict[str, Any] | None] = mapped_column(JSON)  # the reference's TrialResult on this device
    result: Mapped[dict[str, Any] | None] = mapped_column(JSON)  # summary: best config, Pareto front
    account: Mapped[str | None] = mapped_column(String(64), index=True)  # who submitted it; None = local/open
    key_name: Mapped[str | None] = mapped_column(String(64), index=True)  # with which of its keys
    transfer: Mapped[list[Any] | None] = mapped_column(JSON)  # sources learned from: [{name, weight, trials}]
    bundle_sha256: Mapped[str | None] = mapped_column(String(64))  # the submitted bundle the job tunes, if any
    owner: Mapped[str | None] = mapped_column(String(64))  # the worker holding the job's lease
    heartbeat_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    started_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]

    trials: Mapped[list[Trial]] = relationship(back_populates="job", order_by="Trial.number",
                                               cascade="all, delete-orphan")


class Trial(Base):
    __tablename__ = "trials"
    __table_args__ = (UniqueConstraint("job_id", "number", name="uq_trial_job_number"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    job_id: Mapped[str] = mapped_column(ForeignKey("jobs.id", ondelete="CASCADE"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    params: Mapped[dict[str, Any]]
    source: Mapped[str | None] = mapped_column(Text)
    origin: Mapped[str] = mapped_column(String(64))
    note: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(16))
    metrics: Mapped[dict[str, Any]]
    values: Mapped[list[Any] | None] = mapped_column(JSON)  # objective values, job objective order
    feasible: Mapped[bool] = mapped_column(default=True)
    provenance: Mapped[str] = mapped_column(String(16))
    device_name: Mapped[str] = mapped_column(String(256))
    cost_s: Mapped[float] = mapped_column(Float, default=0.0)
    timings: Mapped[dict[str, Any]]
    log: Mapped[str] = mapped_column(Text, default="")
    worker: Mapped[str | None] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # The bundle whose code this trial ran: its job's, read with the trial rather than stored twice.
    bundle_sha256: Mapped[str | None] = column_property(
        select(Job.bundle_sha256).where(Job.id == job_id).correlate_except(Job).scalar_subquery())

    job: Mapped[Job] = relationship(back_populates="trials")


class KernelBundle(Base):
    """A kernel submitted as data (``kernels/bundle.py``), stored once per account under its content hash."""

    __tablename__ = "bundles"
    __table_args__ = (UniqueConstraint("owner", "sha256", name="uq_bundle_owner_sha256"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    owner: Mapped[str] = mapped_column(String(64), index=True)  # the account, or "_local" on an open server
    sha256: Mapped[str] = mapped_column(String(64), index=True)  # of the canonical JSON encoding
    name: Mapped[str] = mapped_column(String(64))
    document: Mapped[dict[str, Any]]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class BestConfig(Base):
    """The best known config per (target, problem, device), with where it came from."""

    __tablename__ = "best_configs"
    __table_args__ = (UniqueConstraint("target", "problem_key", "device", name="uq_best_target_problem_device"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    target: Mapped[str] = mapped_column(String(128), index=True)
    family: Mapped[str] = mapped_column(String(32))
    problem_key: Mapped[str] = mapped_column(String(256))
    problem: Mapped[dict[str, Any]]
    device: Mapped[str] = mapped_column(String(512))
    device_name: Mapped[str] = mapped_column(String(256))
    params: Mapped[dict[str, Any]]
    source: Mapped[str | None] = mapped_column(Text)
    metric: Mapped[str] = mapped_column(String(64))
    value: Mapped[float] = mapped_column(Float)
    metrics: Mapped[dict[str, Any]]
    baseline: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    provenance: Mapped[str] = mapped_column(String(16))  # measured / replayed / modelled
    strategy: Mapped[str] = mapped_column(String(64))
    job_id: Mapped[str] = mapped_column(String(32))
    trial_number: Mapped[int] = mapped_column(Integer)
    seed: Mapped[int] = mapped_column(Integer)
    versions: Mapped[dict[str, Any]]
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class WorkerSeen(Base):
    """Workers and the devices they serve, as last heard from."""

    __tablename__ = "workers"

    name: Mapped[str] = mapped_column(String(128), primary_key=True)
    queues: Mapped[list[Any]]
    hostname: Mapped[str] = mapped_column(String(128))
    info: Mapped[dict[str, Any]] = mapped_column(default=dict)
    last_seen: Mapped[datetime] = mapped_column(default=utcnow)


class AgentCall(Base):
    """One LLM call made for a job: what was asked, what came back, what it cost, and what became
    of each proposal (``proposals``: params, note, fate; trial numbers are joined at read time)."""

    __tablename__ = "agent_calls"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    job_id: Mapped[str] = mapped_column(ForeignKey("jobs.id", ondelete="CASCADE"), index=True)
    agent: Mapped[str] = mapped_column(String(32))  # "config" or "kernel"
    strategy: Mapped[str] = mapped_column(String(64))
    model: Mapped[str] = mapped_column(String(256))
    messages: Mapped[list[Any]]  # the prompt, as chat messages
    response: Mapped[str] = mapped_column(Text, default="")
    error: Mapped[str | None] = mapped_column(Text)
    prompt_tokens: Mapped[int] = mapped_column(Integer, default=0)
    completion_tokens: Mapped[int] = mapped_column(Integer, default=0)
    cost_usd: Mapped[float] = mapped_column(Float, default=0.0)
    latency_s: Mapped[float] = mapped_column(Float, default=0.0)
    proposals: Mapped[list[Any]]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class AutotuneConfig(Base):
    """The config ``tuneforge.autotune`` uses for one (kernel source, key bucket, device, Triton version),
    with where it came from (an imported Triton or Kernel Tuner cache, a job)."""

    __tablename__ = "autotune_configs"
    __table_args__ = (UniqueConstraint("kernel", "bucket", "device", "triton", name="uq_autotune_key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    kernel: Mapped[str] = mapped_column(String(64), index=True)  # sha256 of the kernel's source
    kernel_name: Mapped[str] = mapped_column(String(256))
    bucket: Mapped[str] = mapped_column(String(512))
    device: Mapped[str] = mapped_column(String(256))
    triton: Mapped[str] = mapped_column(String(64))
    config: Mapped[dict[str, Any]]
    time_ms: Mapped[float | None] = mapped_column(Float)
    provenance: Mapped[str] = mapped_column(String(16))  # measured / imported / untimed
    origin: Mapped[dict[str, Any]]  # {"format": ..., "file": ..., "sha256": ...} or {"job_id": ...}
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class ApiKey(Base):
    """A key of an account: only its SHA-256 is stored (the key itself is shown once, at creation)."""

    __tablename__ = "api_keys"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    account: Mapped[str] = mapped_column(String(64), index=True)
    scopes: Mapped[list[Any]]
    digest: Mapped[str] = mapped_column(String(64), unique=True)
    # The key's own limits, within its account's (None: only the server's per-account settings apply).
    requests_per_minute: Mapped[int | None] = mapped_column(Integer)
    quota_active_jobs: Mapped[int | None] = mapped_column(Integer)
    quota_trials_per_day: Mapped[int | None] = mapped_column(Integer)
    quota_device_seconds_per_day: Mapped[float | None] = mapped_column(Float)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    revoked_at: Mapped[datetime | None]


class AuditEvent(Base):
    """Who did what: key creation and revocation, submits, cancels."""

    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    account: Mapped[str] = mapped_column(String(64))
    key_name: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(32))
    subject: Mapped[str] = mapped_column(String(128))
