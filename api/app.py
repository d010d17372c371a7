"""The FastAPI application. Never imports torch or triton: jobs are enqueued by task name."""

from __future__ import annotations

from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from tuneforge.api.routes import catalog, health, jobs, results
from tuneforge.core.errors import NotFoundError, UserInputError
from tuneforge.core.settings import Settings, get_settings
from tuneforge.db.session import ensure_schema
from tuneforge.db.store import JobStore


def create_app(settings: Settings | None = None, *, run_jobs: bool | None = None) -> FastAPI:
    """``run_jobs``: run queued jobs in this process (default: in embedded mode only)."""
    settings = settings or get_settings()
    run_jobs = (not settings.distributed) if run_jobs is None else run_jobs

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

    app = FastAPI(title="tuneforge", version="0.1.0", lifespan=lifespan,
                  description="Autotuning service for compute kernels, quantization layouts and accelerators")
    app.state.settings = settings
    app.state.store = JobStore(settings.database_url)

    @app.exception_handler(UserInputError)
    async def user_input_error(_: Request, exc: UserInputError) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=400)

    @app.exception_handler(NotFoundError)
    async def not_found(_: Request, exc: NotFoundError) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=404)

    for module in (jobs, catalog, results, health):
        app.include_router(module.router)
    _include_optional_routers(app)
    return app


def _include_optional_routers(app: FastAPI) -> None:
    """Feature packages (dashboard, export) add routers by exposing ``router`` in ``api/features``."""
    import importlib
    import pkgutil

    from tuneforge.api import features

    for info in pkgutil.iter_modules(features.__path__):
        module = importlib.import_module(f"{features.__name__}.{info.name}")
        module.setup(app)
