"""Best configs and leaderboards."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends

from api.deps import store_of
from db.store import JobStore

router = APIRouter(prefix="/api/v1", tags=["results"])


@router.get("/best")
def best(target: str | None = None, device: str | None = None, family: str | None = None,
         store: JobStore = Depends(store_of)) -> list[dict[str, Any]]:
    return store.best_configs(target=target, device=device, family=family)


@router.get("/leaderboard")
def leaderboard(family: str | None = None, target: str | None = None,
                store: JobStore = Depends(store_of)) -> list[dict[str, Any]]:
    """One row per (target, problem, device) best config, with its speedup over the baseline."""
    rows = []
    for row in store.best_configs(target=target, family=family):
        baseline = (row.get("baseline") or {}).get("metrics", {}).get(row["metric"])
        rows.append({**row, "speedup_vs_baseline": baseline / row["value"] if baseline and row["value"] else None})
    return rows
