"""Liveness and Prometheus metrics."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily
from sqlalchemy import text

from tuneforge.api.auth import require
from tuneforge.api.deps import settings_of, store_of
from tuneforge.api.schemas import COMMON, errors
from tuneforge.core.settings import Settings
from tuneforge.db.session import get_engine
from tuneforge.db.store import JobStore

router = APIRouter(tags=["health"])


@router.get("/healthz")
def healthz(settings: Settings = Depends(settings_of)) -> dict[str, str]:
    with get_engine(settings.database_url).connect() as conn:
        conn.execute(text("SELECT 1"))
    return {"status": "ok", "mode": "distributed" if settings.distributed else "embedded"}


class _JobCollector:
    def __init__(self, store: JobStore) -> None:
        self.store = store

    def collect(self):
        gauge = GaugeMetricFamily("tuneforge_jobs", "Jobs by status", labels=["status"])
        for status, count in self.store.count_jobs_by_status().items():
            gauge.add_metric([status], count)
        yield gauge


@router.get("/metrics", dependencies=[Depends(require("read"))], response_class=Response,
            responses={200: {"content": {CONTENT_TYPE_LATEST: {}}, "description": "Prometheus text format"},
                       **errors(*COMMON)})
def metrics(store: JobStore = Depends(store_of)) -> Response:
    registry = CollectorRegistry()
    registry.register(_JobCollector(store))
    return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)
