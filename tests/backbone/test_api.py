"""The REST contract in embedded mode, through a real ASGI client."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from fastapi.testclient import TestClient

from tuneforge.api.app import create_app
from tuneforge.db.store import JobStore
from tests.backbone.helpers import GEMM
from tests.conftest import finished_job


@pytest.fixture
def client(settings):
    with TestClient(create_app(settings, run_jobs=True)) as client:
        yield client


def test_posted_job_runs_to_succeeded_with_its_trials(client):
    response = client.post("/api/v1/jobs", json={"device": GEMM, "trials": 20, "strategy": "random", "seed": 2})
    assert response.status_code == 201
    job_id = response.json()["id"]
    job = finished_job(client, job_id)
    assert job["status"] == "succeeded" and job["n_trials"] == 20
    trials = client.get(f"/api/v1/jobs/{job_id}/trials").json()
    assert len(trials) == 20 and {t["provenance"] for t in trials} == {"replayed"}
    assert job_id in [j["id"] for j in client.get("/api/v1/jobs").json()]
    best = client.get("/api/v1/best", params={"target": "Xgemm"}).json()
    assert best[0]["value"] == job["best_value"]
    board = client.get("/api/v1/leaderboard").json()
    assert board[0]["device"] == GEMM and board[0]["provenance"] == "replayed"


def test_events_stream_every_trial_then_end(client):
    job_id = client.post("/api/v1/jobs", json={"device": GEMM, "trials": 12}).json()["id"]
    events = []
    with client.stream("GET", f"/api/v1/jobs/{job_id}/events") as response:
        assert response.headers["content-type"].startswith("text/event-stream")
        name = None
        for line in response.iter_lines():
            if line.startswith("event: "):
                name = line[7:]
            elif line.startswith("data: "):
                events.append((name, json.loads(line[6:])))
                if name == "end":
                    break
    trial_numbers = [data["number"] for name, data in events if name == "trial"]
    assert trial_numbers == list(range(12))
    assert events[-1] == ("end", {"status": "succeeded"})


@pytest.mark.parametrize("body, status, fix", [
    ({"device": "replay:nowhere"}, 400, "no replay space 'nowhere' is available"),
    ({"device": GEMM, "trials": 0}, 422, "greater than or equal to 1"),
    ({"device": GEMM, "strategy": "magic"}, 400, "unknown strategy"),
    ({"device": "gpu9000"}, 400, "unknown device"),
    ({"device": GEMM, "shape": "M=oops"}, 422, "shape"),
    ({"device": GEMM, "target": "nonexistent"}, 400, "unknown target"),
    ({"device": GEMM, "trials": "many"}, 422, "int"),
    ({"device": GEMM, "colour": "blue"}, 422, "colour"),
])
def test_bad_requests_get_4xx_naming_the_fix_and_write_nothing(client, settings, body, status, fix):
    response = client.post("/api/v1/jobs", json=body)
    assert response.status_code == status
    assert fix in json.dumps(response.json())
    assert JobStore(settings.database_url).list_jobs() == []


def test_unknown_job_is_404(client):
    assert client.get("/api/v1/jobs/nope").status_code == 404
    assert client.post("/api/v1/jobs/nope/cancel").status_code == 404


def test_cancelling_a_finished_job_is_409(client):
    job_id = client.post("/api/v1/jobs", json={"device": GEMM, "trials": 3}).json()["id"]
    assert finished_job(client, job_id)["status"] == "succeeded"
    response = client.post(f"/api/v1/jobs/{job_id}/cancel")
    assert response.status_code == 409 and "already ended" in response.json()["detail"]


def test_catalog_health_and_metrics(client):
    devices = client.get("/api/v1/devices").json()["devices"]
    assert any(d["spec"] == GEMM and d["provenance"] == "replayed" for d in devices)
    assert {"tpe", "random", "grid", "cmaes"} <= {s["name"] for s in client.get("/api/v1/strategies").json()}
    assert client.get("/healthz").json()["status"] == "ok"
    client.post("/api/v1/jobs", json={"device": GEMM, "trials": 3})
    assert "tuneforge_jobs{" in client.get("/metrics").text
    assert client.get("/docs").status_code == 200


def test_api_never_imports_torch_or_triton():
    code = ("import sys; from tuneforge.api.app import create_app; from fastapi.testclient import TestClient; "
            "c = TestClient(create_app(run_jobs=False)); c.get('/api/v1/targets'); c.get('/api/v1/devices'); "
            "print(sorted(m for m in ('torch', 'triton') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         env={"TUNEFORGE_DATABASE_URL": "sqlite://", "PATH": "/usr/bin:/bin"})
    assert out.stdout.strip() == "[]", out.stderr
