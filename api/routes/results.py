"""Best configs and leaderboards."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends

from tuneforge.api.deps import store_of
from tuneforge.api.export.records import best_record
from tuneforge.db.store import JobStore

router = APIRouter(prefix="/api/v1", tags=["results"])


@router.get("/best")
def best(target: str | None = None, device: str | None = None, family: str | None = None,
         store: JobStore = Depends(store_of)) -> list[dict[str, Any]]:
    return store.best_configs(target=target, device=device, family=family)


@router.get("/leaderboard")
def leaderboard(family: str | None = None, target: str | None = None,
                store: JobStore = Depends(store_of)) -> list[dict[str, Any]]:
    """One row per (target, problem, device) best config, with its speedup over the baseline and its
    share of the roofline; ``provenance`` says whether the numbers are measured, replayed or modelled."""
    return [best_record(row) for row in store.best_configs(target=target, family=family)]
