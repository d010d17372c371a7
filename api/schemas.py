"""Request and response bodies of the REST API."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class JobRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    target: str | None = Field(None, description="target name; omit for a replay device, which names its own")
    device: str = Field(..., description="cpu, cuda, sim:h100, sim:systolic, replay:<file>, ...")
    strategy: str = "bandit"
    shape: str | dict[str, int] | None = Field(None, description="e.g. 'M=4096,N=4096,K=4096'")
    dtype: str | None = None
    extra: dict[str, str] | None = Field(None, description="named options, e.g. {'workload': 'resnet18'}")
    objectives: list[str] | None = None
    constraints: list[str] | None = Field(None, description="e.g. ['area_mm2<=2.0']")
    trials: int = Field(100, description="trial budget")
    seconds: float | None = Field(None, description="time budget in charged device seconds")
    parallelism: int = 1
    seed: int = 0
    options: dict[str, Any] | None = None


class JobCreated(BaseModel):
    id: str
    status: str
    url: str


class ErrorBody(BaseModel):
    detail: str
