"""Small helpers for the backbone tests."""

from __future__ import annotations

from tuneforge.core.settings import Settings
from tuneforge.db.store import JobStore
from tuneforge.search.jobspec import build_job_spec

GEMM = "replay:gemm_RTX_3090"


def create_job(settings: Settings, **request) -> str:
    request.setdefault("target", None)
    request.setdefault("device", GEMM)
    return JobStore(settings.database_url).create_job(build_job_spec(settings, **request))
