"""The dashboard's HTML pages: leaderboard, jobs (with the submit form), one job, targets, one target."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from urllib.parse import parse_qs

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.templating import Jinja2Templates

from tuneforge.api.auth import Principal, authenticate, csrf_token
from tuneforge.api.dashboard import formatting
from tuneforge.api.deps import settings_of, store_of
from tuneforge.api.export.module import exportable
from tuneforge.api.export.records import best_record
from tuneforge.api.schemas import JobPublic, public
from tuneforge.core.errors import NotFoundError, UserInputError
from tuneforge.core.settings import Settings
from tuneforge.db.store import JobStore
from tuneforge.kernels.bundle import visible_to
from tuneforge.kernels._base import Target

def _page_context(request: Request) -> dict[str, Any]:
    return {"csrf": csrf_token(request), "who": getattr(request.state, "principal", None)}


def viewer(request: Request) -> Principal:
    """The signed-in caller; a browser without a session is sent to the sign-in page."""
    try:
        principal = authenticate(request, None)
    except HTTPException as exc:
        if exc.status_code != 401:
            raise
        raise HTTPException(303, "sign in first", headers={"Location": "/dashboard/login"}) from None
    if "read" not in principal.scopes and not principal.admin:
        raise HTTPException(403, "this key lacks the 'read' scope")
    return principal


router = APIRouter(include_in_schema=False)
pages = APIRouter(include_in_schema=False, dependencies=[Depends(viewer)])
templates = Jinja2Templates(directory=Path(__file__).with_name("templates"), context_processors=[_page_context])
formatting.register(templates.env)
SIGN_IN_FIELD_MAX = 512


@router.get("/dashboard/login", response_class=HTMLResponse)
def login_page(request: Request) -> HTMLResponse:
    return templates.TemplateResponse(request, "login.html", {"error": None})


@router.post("/dashboard/login", response_class=HTMLResponse, response_model=None)
async def login(request: Request) -> HTMLResponse | RedirectResponse:
    """Trade a key for a session cookie once; the key never reaches the page's scripts."""
    form = parse_qs((await request.body()).decode(errors="replace")[:2 * SIGN_IN_FIELD_MAX])
    sent_csrf, key = form.get("csrf", [""])[0], form.get("key", [""])[0].strip()
    record = None
    if sent_csrf and sent_csrf == request.session.get("csrf"):
        record = request.app.state.auth.keys.authenticate(key[:SIGN_IN_FIELD_MAX])
    if record is None:
        return templates.TemplateResponse(request, "login.html", {"error": "unknown or revoked key"},
                                          status_code=401)
    request.session.clear()
    request.session["key_id"] = record.id
    csrf_token(request)
    return RedirectResponse("/dashboard", status_code=303)


@pages.get("/dashboard", response_class=HTMLResponse)
def leaderboard(request: Request, family: str | None = None, target: str | None = None, device: str | None = None,
                provenance: str | None = None, store: JobStore = Depends(store_of),
                who: Principal = Depends(viewer)) -> HTMLResponse:
    every = [best_record(r) for r in store.best_configs() if visible_to(r.target, who.sees)]
    chosen = {"family": family, "target": target, "device": device, "provenance": provenance}
    rows = [r for r in every if all(not v or r[k] == v for k, v in chosen.items())]
    options = {k: sorted({r[k] for r in every}) for k in chosen}
    return templates.TemplateResponse(request, "leaderboard.html",
                                      {"rows": rows, "total": len(every), "options": options, "chosen": chosen})


@pages.get("/dashboard/jobs", response_class=HTMLResponse)
def jobs(request: Request, status: str | None = None, store: JobStore = Depends(store_of),
         settings: Settings = Depends(settings_of), who: Principal = Depends(viewer)) -> HTMLResponse:
    from tuneforge.evaluators.registry import known_specs
    from tuneforge.kernels.registry import all_targets
    from tuneforge.search.strategies import all_strategies

    listed = store.list_jobs(status=status, limit=200, account=who.sees)
    return templates.TemplateResponse(request, "jobs.html", {
        "jobs": listed, "status": status, "numbers_are": _device_provenance({j.device for j in listed}, settings),
        "targets": list(all_targets().values()), "devices": known_specs(settings),
        "strategies": list(all_strategies().values()), "prefill": dict(request.query_params)})


@pages.get("/dashboard/jobs/{job_id}", response_class=HTMLResponse)
def job(request: Request, job_id: str, store: JobStore = Depends(store_of),
        who: Principal = Depends(viewer)) -> HTMLResponse:
    # The page embeds the job as the REST API returns it (its script reads the same JSON).
    return templates.TemplateResponse(request, "job.html", {"job": public(JobPublic, store.get_job(job_id, who.sees))})


@pages.get("/dashboard/targets", response_class=HTMLResponse)
def targets(request: Request, store: JobStore = Depends(store_of)) -> HTMLResponse:
    from tuneforge.kernels.registry import all_targets

    counts: dict[str, int] = {}
    for row in store.best_configs():
        counts[row.target] = counts.get(row.target, 0) + 1
    return templates.TemplateResponse(request, "targets.html",
                                      {"targets": list(all_targets().values()), "counts": counts})


@pages.get("/dashboard/targets/{name}", response_class=HTMLResponse)
def target(request: Request, name: str, store: JobStore = Depends(store_of),
           settings: Settings = Depends(settings_of), who: Principal = Depends(viewer)) -> HTMLResponse:
    rows = [best_record(r) for r in store.best_configs(target=name) if visible_to(r.target, who.sees)]
    found = _find_target(name, rows, settings)
    devices = sorted({r["device"] for r in rows})
    return templates.TemplateResponse(request, "target.html", {
        "name": name, "card": found.describe(), "rows": rows, "devices": devices,
        "exportable": exportable(found)})


def _device_provenance(specs: set[str], settings: Settings) -> dict[str, str]:
    """Whether each device's numbers are measured, replayed or modelled (devices no longer known are left out)."""
    from tuneforge.evaluators.registry import resolve_device

    found = {}
    for spec in specs:
        try:
            found[spec] = resolve_device(spec, settings).describe()["provenance"]
        except UserInputError:
            continue
    return found


def _find_target(name: str, rows: list[dict[str, Any]], settings: Settings) -> Target:
    """A registered target, or the one a replay device brings (its best configs name the device)."""
    from tuneforge.evaluators.registry import resolve_device
    from tuneforge.kernels.registry import get_target

    try:
        return get_target(name)
    except UserInputError:
        for row in rows:
            own = resolve_device(row["device"], settings).own_target()
            if own is not None and own.name == name:
                return own
    raise NotFoundError(f"no target {name!r}; the targets page lists them")
