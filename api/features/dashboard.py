"""The web dashboard: pages under ``/dashboard``, their scripts and styles, and the job analysis JSON."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from tuneforge.api.dashboard import analysis, pages

STATIC_DIR = Path(pages.__file__).with_name("static")


def setup(app: FastAPI) -> None:
    app.include_router(pages.router)
    app.include_router(pages.pages)
    app.include_router(analysis.router)
    app.mount("/dashboard/static", StaticFiles(directory=STATIC_DIR), name="dashboard-static")
