"""What can be tuned, where, and how: targets, devices, strategies."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Path

from tuneforge.api.auth import require
from tuneforge.api.deps import settings_of, store_of
from tuneforge.api.options import describe_options
from tuneforge.api.schemas import COMMON, StrategyPublic, TargetPublic, errors
from tuneforge.core.errors import NotFoundError, UserInputError
from tuneforge.core.settings import Settings
from tuneforge.db.store import JobStore
from tuneforge.worker.availability import add_live_workers
from tuneforge.evaluators.registry import known_specs, resolve_device
from tuneforge.kernels.registry import get_target, all_targets
from tuneforge.search.strategies import all_strategies

router = APIRouter(prefix="/api/v1", tags=["catalog"], dependencies=[Depends(require("read"))],
                   responses=errors(*COMMON))


@router.get("/targets", response_model=list[TargetPublic])
def list_targets() -> list[dict[str, Any]]:
    return [{"name": t.name, "family": t.family, "description": t.description, "dims": list(t.dims),
             "dtypes": list(t.dtypes), "objectives": [o.metric for o in t.objectives]}
            for t in all_targets().values()]


@router.get("/targets/{name}", responses=errors(404))
def describe_target(name: str = Path(..., min_length=1, max_length=128)) -> dict[str, Any]:
    try:
        return get_target(name).describe()
    except UserInputError as exc:
        raise NotFoundError(str(exc)) from None


@router.get("/devices")
def list_devices(settings: Settings = Depends(settings_of), store: JobStore = Depends(store_of)) -> dict[str, Any]:
    """Each device; in distributed mode with ``live_workers``, the workers that serve it now (none:
    a job for it is refused)."""
    devices = [resolve_device(spec, settings).describe() for spec in known_specs(settings)]
    add_live_workers(settings, devices)
    return {"devices": devices, "workers": store.workers()}


@router.get("/strategies", response_model=list[StrategyPublic])
def list_strategies() -> list[dict[str, Any]]:
    return [{"name": s.name, "description": s.description, "multi_objective": s.multi_objective,
             "needs_llm": s.needs_llm, "options": describe_options(s.name, s.needs_llm)}
            for s in all_strategies().values()]
