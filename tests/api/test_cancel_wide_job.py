"""A job at the parallelism cap is cancelled within about a second over real HTTP, even while its
strategy is busy proposing, and the job queued behind it then runs."""

from __future__ import annotations

import time

import httpx

from tuneforge.api.app import create_app
from tests.api.conftest import GEMM, make_settings, with_keys
from tests.conftest import free_port, serve_in_thread, wait_for

CAP = 64


def test_cancel_of_a_job_at_the_parallelism_cap_takes_effect_within_a_second(tmp_path):
    settings = make_settings(tmp_path, max_parallelism=CAP)
    keys = with_keys(settings)
    port = free_port()
    app = create_app(settings.model_copy(update={"api_port": port}), run_jobs=True)
    with serve_in_thread(app, port, "wide-job-server") as url, \
            httpx.Client(base_url=url, headers={"Authorization": f"Bearer {keys['alice']}"}, timeout=30) as alice:
        wide = alice.post("/api/v1/jobs", json={"device": GEMM, "strategy": "bandit", "trials": 5000,
                                                "parallelism": CAP})
        assert wide.status_code == 201, wide.text
        wide_id = wide.json()["id"]
        behind = alice.post("/api/v1/jobs", json={"device": GEMM, "strategy": "random", "trials": 5}).json()["id"]
        # Past the first wave, every pick is model-based: the strategy is busy proposing.
        wait_for(lambda: alice.get(f"/api/v1/jobs/{wide_id}").json()["n_trials"] >= 2 * CAP, 240, "the second wave")
        asked = time.monotonic()
        assert alice.post(f"/api/v1/jobs/{wide_id}/cancel").json()["status"] == "cancelled"
        stopped = wait_for(lambda: (job := alice.get(f"/api/v1/jobs/{wide_id}").json())["finished_at"] and job,
                           30, "the loop to stop", every=0.05)
        took = time.monotonic() - asked
        assert stopped["status"] == "cancelled", "the loop's end overwrote the cancel"
        assert took < 1.5, f"the cancelled loop ran on for {took:.2f} s"
        n_at_stop = stopped["n_trials"]
        done = wait_for(lambda: (job := alice.get(f"/api/v1/jobs/{behind}").json())["finished_at"] and job, 60,
                     "the job queued behind")
        assert done["status"] == "succeeded" and done["n_trials"] == 5
        assert alice.get(f"/api/v1/jobs/{wide_id}").json()["n_trials"] == n_at_stop, "trials came after the stop"
