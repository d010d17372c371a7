"""Best configs and leaderboards."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Query

from tuneforge.api.auth import Principal, require
from tuneforge.api.deps import store_of
from tuneforge.api.schemas import COMMON, BestConfigPublic, LeaderboardRow, errors
from tuneforge.api.export.records import best_record
from tuneforge.db.records import BestConfigRecord
from tuneforge.db.store import JobStore
from tuneforge.kernels.bundle import visible_to

router = APIRouter(prefix="/api/v1", tags=["results"], dependencies=[Depends(require("read"))],
                   responses=errors(*COMMON))


def _filter():
    return Query(None, min_length=1, max_length=160)  # one object per parameter: FastAPI names them in place


@router.get("/best", response_model=list[BestConfigPublic])
def best(target: str | None = _filter(), device: str | None = _filter(), family: str | None = _filter(),
         store: JobStore = Depends(store_of), who: Principal = Depends(require("read"))) -> list[BestConfigRecord]:
    """Best configs; a submitted bundle's (target ``bundle:ACCOUNT/...``) only for its own account."""
    return [row for row in store.best_configs(target=target, device=device, family=family)
            if visible_to(row.target, who.sees)]


@router.get("/leaderboard", response_model=list[LeaderboardRow])
def leaderboard(family: str | None = _filter(), target: str | None = _filter(),
                store: JobStore = Depends(store_of), who: Principal = Depends(require("read"))) -> list[dict[str, Any]]:
    """Shared by every account: the instance's best known configs (a submitted bundle's rows only for its own
    account). One row per (target, problem, device) best config, with its speedup over the baseline and its
    share of the roofline; ``provenance`` says whether the numbers are measured, replayed or modelled."""
    return [best_record(row) for row in store.best_configs(target=target, family=family)
            if visible_to(row.target, who.sees)]
