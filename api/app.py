"""The FastAPI application. Never imports torch or triton: jobs are enqueued by task name."""

from __future__ import annotations

import ipaddress
import secrets
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.exception_handlers import http_exception_handler
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match, Route
from starlette.middleware.sessions import SessionMiddleware
from starlette.middleware.trustedhost import TrustedHostMiddleware

from tuneforge.api.auth import AuthState, KeyPresence, RateLimiter, StreamSlots
from tuneforge.api.routes import catalog, health, jobs, results
from tuneforge.api.web import BodyLimit, SecurityHeaders, mount_docs
from tuneforge.core.errors import ConflictError, NotFoundError, QuotaError, UserInputError
from tuneforge.core.settings import Settings, get_settings
from tuneforge.db.accounts import KeyStore
from tuneforge.db.session import ensure_schema
from tuneforge.db.store import JobStore

SESSION_COOKIE = "tuneforge_session"


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def create_app(settings: Settings | None = None, *, run_jobs: bool | None = None,
               allow_open: bool | None = None) -> FastAPI:
    """``run_jobs``: run queued jobs in this process (default: in embedded mode only). ``allow_open``:
    with no active key, serve everyone as the local admin (default: only when bound to loopback)."""
    settings = settings or get_settings()
    run_jobs = (not settings.distributed) if run_jobs is None else run_jobs
    allow_open = is_loopback(settings.api_host) if allow_open is None else allow_open

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        ensure_schema(settings.database_url)
        runner = None
        if run_jobs:
            from tuneforge.worker.scheduler import JobScheduler

            runner = JobScheduler(settings, max_jobs=1)
            runner.start()
        yield
        if runner is not None:
            runner.stop()

    app = FastAPI(title="tuneforge", version="0.1.0", lifespan=lifespan, docs_url=None, redoc_url=None,
                  description="Autotuning service for compute kernels, quantization layouts and accelerators. "
                              "Every route but /healthz needs `Authorization: Bearer KEY` (a loopback server "
                              "with no key created runs open). Jobs, trials and agent calls belong to the "
                              "account that submitted them; best configs and the leaderboard are shared.")
    app.state.settings = settings
    app.state.store = JobStore(settings.database_url)
    keys = KeyStore(settings.database_url)
    app.state.auth = AuthState(keys=keys, presence=KeyPresence(keys), allow_open=allow_open,
                               limiter=RateLimiter(settings.quota_requests_per_minute),
                               streams=StreamSlots(settings.max_streams_per_key))

    # Outermost first: headers on every answer, then the Host check, then the body cap.
    app.add_middleware(SessionMiddleware, secret_key=settings.session_secret or secrets.token_urlsafe(32),
                       session_cookie=SESSION_COOKIE, same_site="strict", max_age=12 * 3600,
                       https_only=False)
    app.add_middleware(BodyLimit, max_bytes=settings.max_body_bytes)
    app.add_middleware(TrustedHostMiddleware, allowed_hosts=settings.trusted_hosts)
    app.add_middleware(SecurityHeaders)

    @app.exception_handler(UserInputError)
    async def user_input_error(_: Request, exc: UserInputError) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=400)

    @app.exception_handler(NotFoundError)
    async def not_found(_: Request, exc: NotFoundError) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=404)

    @app.exception_handler(ConflictError)
    async def conflict(_: Request, exc: ConflictError) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=409)

    @app.exception_handler(QuotaError)
    async def quota(_: Request, exc: QuotaError) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=429, headers={"Retry-After": str(exc.retry_after_s)})

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        if exc.status_code == 405:  # Starlette names only the first route's methods for a shared path
            allowed = sorted({m for route in app.routes if isinstance(route, Route)
                              and route.matches(request.scope)[0] != Match.NONE for m in route.methods or ()})
            return JSONResponse({"detail": exc.detail}, status_code=405, headers={"Allow": ", ".join(allowed)})
        return await http_exception_handler(request, exc)

    for module in (jobs, catalog, results, health):
        app.include_router(module.router)
    _include_optional_routers(app)
    mount_docs(app)
    return app


def _include_optional_routers(app: FastAPI) -> None:
    """Feature packages (dashboard, export) add routers by exposing ``router`` in ``api/features``."""
    import importlib
    import pkgutil

    from tuneforge.api import features

    for info in pkgutil.iter_modules(features.__path__):
        module = importlib.import_module(f"{features.__name__}.{info.name}")
        module.setup(app)
