"""The job analysis the dashboard plots, computed server-side from real finished jobs."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from tuneforge.api.app import create_app
from tuneforge.db.store import JobStore


@pytest.fixture(scope="module")
def client(seeded):
    with TestClient(create_app(seeded["settings"], run_jobs=False)) as client:
        yield client


def test_importance_ranks_the_varied_parameters_and_sums_to_one(client, seeded):
    analysis = client.get(f"/api/v1/jobs/{seeded['gemm']}/analysis").json()
    importance = analysis["importance"]
    assert importance["metric"] == "time_ms" and "note" not in importance
    scores = [p["importance"] for p in importance["params"]]
    assert sum(scores) == pytest.approx(1.0) and scores == sorted(scores, reverse=True)
    assert analysis["provenance"] == ["replayed"] and "pareto" not in analysis


def test_parallel_axes_cover_every_successful_trial(client, seeded):
    trials = JobStore(seeded["settings"].database_url).trials(seeded["gemm"])
    parallel = client.get(f"/api/v1/jobs/{seeded['gemm']}/analysis").json()["parallel"]
    assert len(parallel["rows"]) == sum(1 for t in trials if t.values and t.feasible)
    mwg = next(a for a in parallel["axes"] if a["name"] == "MWG")
    assert mwg["numeric"] and mwg["values"] == sorted({t.params["MWG"] for t in trials if t.values})


def test_pareto_front_matches_the_jobs_own_summary(client, seeded):
    job = client.get(f"/api/v1/jobs/{seeded['accel']}").json()
    pareto = client.get(f"/api/v1/jobs/{seeded['accel']}/analysis").json()["pareto"]
    assert pareto["front"] == [p["number"] for p in job["result"]["pareto_front"]]
    assert len(pareto["points"]) == 40


def test_importance_says_why_it_is_missing_for_a_one_trial_job(client, seeded):
    importance = client.get(f"/api/v1/jobs/{seeded['matmul']}/analysis").json()["importance"]
    assert importance["params"] == [] and "at least 5 successful trials" in importance["note"]
