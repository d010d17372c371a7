"""The dashboard in a real headless Chromium against a real server: leaderboard, submit, live job page, plots."""

from __future__ import annotations

import re

import httpx
import pytest

from tuneforge.db.store import JobStore
from tests.dashboard.conftest import GEMM, screenshot

pytestmark = pytest.mark.browser


def test_leaderboard_lists_seeded_results_with_their_provenance(page, seeded):
    page.goto("/dashboard")
    rows = page.locator("table[data-table=best] tbody tr")
    assert rows.count() == 3
    gemm = rows.filter(has_text="Xgemm")
    assert gemm.locator(".prov").inner_text() == "replayed"
    assert gemm.get_by_role("link", name=seeded["gemm"]).count() == 1
    matmul = rows.filter(has_text="matmul")
    assert matmul.locator(".prov").inner_text() == "modelled"
    job = JobStore(seeded["settings"].database_url).get_job(seeded["matmul"])
    fraction = job.result["best"]["metrics"]["fraction_of_roofline"]
    assert f"{job.result['speedup_vs_baseline']:.3g}× (modelled)" in matmul.inner_text()
    assert f"{100 * fraction:.0f}%" in matmul.inner_text()
    assert rows.filter(has_text="accel").locator(".prov").inner_text() == "modelled"
    screenshot(page, "leaderboard")

    page.select_option("select[name=provenance]", "modelled")
    page.wait_for_url(re.compile(r"provenance=modelled"))
    assert rows.count() == 2 and "Xgemm" not in page.locator("table[data-table=best]").inner_text()

    page.goto("/dashboard")
    page.click("th:has-text('best')")
    values = [float(v) for v in rows.locator("td.num[data-value]").evaluate_all(
        "cells => cells.filter((c, i) => i % 3 === 0).map(c => c.dataset.value)")]
    assert values == sorted(values)


def test_submitted_job_appears_and_its_progress_updates_live(page):
    page.goto("/dashboard/jobs")
    page.select_option("select[name=device]", GEMM)
    page.select_option("select[name=strategy]", "random")
    page.fill("input[name=trials]", "150")
    page.click("#submit-form button[type=submit]")
    page.wait_for_url(re.compile(r"/dashboard/jobs/[0-9a-f]+$"))
    job_id = page.url.rsplit("/", 1)[1]

    # Part-way: some trials shown, not all (the server streams them as the job runs).
    page.wait_for_function("() => { const p = document.getElementById('progress'); "
                           "return p.value > 0 && p.value < p.max; }", timeout=30_000)
    page.wait_for_selector("body[data-job-done]", timeout=60_000)
    assert page.locator("#progress-text").inner_text() == "150 / 150 trials"
    assert page.locator("h1 [data-status]").inner_text() == "succeeded"
    assert page.locator("#trials tbody tr").count() == 150
    assert page.locator("#numbers-are .prov").inner_text() == "replayed"
    assert page.locator("#plot-best circle.point").count() > 50
    assert page.locator("#plot-best path.line").count() == 1
    assert page.locator("#plot-importance rect.bar").count() >= 3
    assert page.locator("#plot-parallel polyline.pc-line").count() > 50
    assert page.locator("#pareto-section").is_hidden() and page.locator("#agent-section").is_hidden()
    screenshot(page, "job", full_page=False)  # the plots; the 150-row trial table below is left out

    page.goto("/dashboard/jobs")
    row = page.locator(f"tr[data-job='{job_id}']")
    assert "succeeded" in row.inner_text() and "150/150" in row.inner_text()
    assert row.locator(".prov").inner_text() == "replayed"
    screenshot(page, "jobs")


def test_workers_page_says_where_candidates_run(page):
    page.goto("/dashboard")
    page.click("nav >> text=Workers")
    page.wait_for_url(re.compile(r"/dashboard/workers$"))
    # This server runs embedded; distributed mode lists live workers per queue (tests/backbone).
    assert "evaluates candidates itself, 1 at a time" in page.locator("#mode").inner_text()


def test_multi_objective_job_plots_its_pareto_front(page, seeded):
    page.goto(f"/dashboard/jobs/{seeded['accel']}")
    page.wait_for_selector("body[data-job-done]", timeout=30_000)
    assert page.locator("#pareto-section").is_visible()
    assert page.locator("#plot-pareto path.line").count() == 1
    front = page.locator("#plot-pareto path.line").get_attribute("d").count("L") + 1
    assert front >= 2 and page.locator("#plot-pareto circle.point").count() > 0
    assert page.locator("#numbers-are .prov").inner_text() == "modelled"
    screenshot(page, "job-pareto")
    page.select_option("#pareto-x", "1")  # any objective pair can be plotted
    assert "area_mm2 (modelled)" in page.locator("#plot-pareto").inner_text()


def test_target_page_shows_space_and_best_configs_per_device(page):
    page.goto("/dashboard/targets/matmul")
    assert page.locator("#space tr", has_text="BLOCK_M").count() == 1
    best = page.locator("table[data-table=best] tbody tr")
    assert best.count() == 1 and best.locator(".prov").inner_text() == "modelled"
    assert page.get_by_role("link", name="Download tuned module").get_attribute("href") == "/api/v1/export/matmul"
    screenshot(page, "target")


def test_submit_form_shows_what_to_change(page):
    page.goto("/dashboard/jobs")
    page.select_option("select[name=target]", "matmul")
    page.select_option("select[name=device]", GEMM)
    page.fill("input[name=shape]", "M=oops")
    page.click("#submit-form button[type=submit]")
    page.wait_for_function("() => document.getElementById('submit-error').textContent.length > 0")
    assert "shape" in page.locator("#submit-error").inner_text()
    assert page.url.endswith("/dashboard/jobs")


def test_agent_transcript_shows_when_the_job_made_calls(page, seeded, server):
    agent_calls = pytest.importorskip("tuneforge.db.agent_calls", reason="the agent calls table has not landed")
    store = agent_calls.AgentCallStore(seeded["settings"].database_url)
    job_id = seeded["gemm"]
    first = JobStore(seeded["settings"].database_url).trials(job_id)[0]
    store.record(job_id, agent="config", strategy="hybrid", model="local-model",
                 messages=[{"role": "system", "content": "You tune GEMM kernels."},
                           {"role": "user", "content": "Propose 1 config for Xgemm."}],
                 response='{"configs": [...]}', error=None, prompt_tokens=120, completion_tokens=30, cost_usd=0.0,
                 latency_s=0.4, proposals=[{"params": first.params, "note": first.note, "origin": first.origin,
                                            "source_sha": None, "fate": "queued"}])
    if httpx.get(f"{server}/api/v1/jobs/{job_id}/agent-calls").status_code == 404:
        # The REST route is not there yet: serve what the store reads, so the page's section is exercised.
        page.route(f"**/api/v1/jobs/{job_id}/agent-calls",
                   lambda route: route.fulfill(json=store.calls(job_id)))
    page.goto(f"/dashboard/jobs/{job_id}")
    page.wait_for_selector("body[data-job-done]", timeout=30_000)
    section = page.locator("#agent-section")
    assert section.is_visible()
    page.click("#agent-calls summary")
    text = section.inner_text()
    assert "config agent · local-model · 150 tokens" in text and "Propose 1 config for Xgemm." in text
    assert section.locator("table.proposals td", has_text="queued").count() == 1
    assert section.locator("table.proposals a").inner_text() == str(first.number)
