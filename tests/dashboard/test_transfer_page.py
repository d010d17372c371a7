"""The job page shows the other GPUs' histories a job learned from, and their weights."""

from __future__ import annotations

import pytest

from tuneforge.api.submit import submit_job
from tuneforge.db.store import JobStore
from tuneforge.worker.jobs import run_job_embedded

pytestmark = pytest.mark.browser


def test_job_page_lists_the_histories_the_model_learned_from(page, seeded):
    # The seeded GEMM job ran on the RTX 3090; this one tunes the same kernel on the 2080 Ti.
    settings = seeded["settings"]
    job_id = submit_job(settings, {"target": None, "device": "replay:gemm_RTX_2080_Ti", "trials": 12,
                                   "strategy": "bandit", "seed": 3})
    run_job_embedded(job_id, settings)
    stored = JobStore(settings.database_url).get_job(job_id).transfer
    page.goto(f"/dashboard/jobs/{job_id}")
    page.wait_for_selector("body[data-job-done]", timeout=30_000)
    section = page.locator("#transfer-section")
    assert section.is_visible()
    rows = section.locator("tbody tr")
    assert rows.count() == len(stored) == 2  # the 3090's history and the job's own model
    assert "gemm_RTX_3090" in rows.nth(0).inner_text() and "30" in rows.nth(0).inner_text()
    assert rows.nth(1).inner_text().split("\t")[-1].strip() == f"{stored[1]['weight']:.2f}"


def test_job_page_without_sources_has_no_transfer_section(page, seeded):
    page.goto(f"/dashboard/jobs/{seeded['accel']}")
    page.wait_for_selector("body[data-job-done]", timeout=30_000)
    assert not page.locator("#transfer-section").is_visible()
