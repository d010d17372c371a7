"""A real server (uvicorn in a thread, embedded runner, temp SQLite) with seeded results, and a real
headless Chromium driven by Playwright. Browser tests skip, saying why, when either is missing (and fail in CI)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tuneforge.api.app import create_app
from tuneforge.api.submit import submit_job
from tuneforge.core.settings import Settings
from tuneforge.db.session import ensure_schema
from tests.conftest import SPACES_DIR, free_port, serve_in_thread, unavailable
from tuneforge.worker.jobs import run_job_embedded

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-quic",
                 "--no-first-run", "--disable-component-update", "--disable-sync"]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-output" / "screenshots"
GEMM = "replay:gemm_RTX_3090"


@pytest.fixture(scope="session")
def seeded(tmp_path_factory) -> dict:
    """Finished jobs from real tuning runs: a replayed GEMM, a modelled systolic array with two objectives,
    and a matmul on the modelled H100 (with a modelled torch baseline and roofline share)."""
    db = tmp_path_factory.mktemp("dashboard") / "tuneforge.db"
    settings = Settings(database_url=f"sqlite:///{db}", broker_url=None, spaces_dir=SPACES_DIR, embedded_workers=1)
    ensure_schema(settings.database_url)
    gemm = submit_job(settings, {"target": None, "device": GEMM, "trials": 30, "strategy": "tpe", "seed": 1})
    run_job_embedded(gemm, settings)
    accel = submit_job(settings, {"target": "accel", "device": "sim:systolic", "trials": 40, "strategy": "nsga2",
                                  "objectives": ["latency_ms", "area_mm2"], "seed": 0})
    run_job_embedded(accel, settings)
    # Fewer trials than parameter importance needs: its page says so instead of plotting noise.
    matmul = submit_job(settings, {"target": "matmul", "device": "sim:h100", "shape": "M=1024,N=1024,K=1024",
                                   "dtype": "fp16", "trials": 4, "strategy": "random", "seed": 0})
    run_job_embedded(matmul, settings)
    return {"settings": settings, "gemm": gemm, "accel": accel, "matmul": matmul}


@pytest.fixture(scope="session")
def server(seeded) -> str:
    with serve_in_thread(create_app(seeded["settings"], run_jobs=True), free_port(), "dashboard-test-server") as url:
        yield url


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists() or shutil.which(CHROMIUM) is None:
        unavailable(f"Chromium is not installed at {CHROMIUM} (apt-get install -y chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        unavailable("the playwright Python package is not installed (pip install playwright)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser, server):
    context = browser.new_context(base_url=server, viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    yield page
    context.close()
    assert not errors, f"script errors on the page: {errors}"


def screenshot(page, name: str, full_page: bool = True) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=full_page)
    return path
