"""Distributed mode on the real services: API + two Celery workers + Redis + PostgreSQL.

One worker is SIGKILLed (its whole process group, as when a machine dies) while it runs the
job's loop; the job must still end with every trial stored exactly once.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time

import httpx
import pytest

from tuneforge.db.store import JobStore
from tests.conftest import SPACES_DIR

pytestmark = [pytest.mark.services, pytest.mark.slow]
TRIALS = 40


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def cluster(postgres_url, redis_url, tmp_path):
    env = {**os.environ, "TUNEFORGE_DATABASE_URL": postgres_url, "TUNEFORGE_BROKER_URL": redis_url,
           "TUNEFORGE_SPACES_DIR": str(SPACES_DIR), "TUNEFORGE_VISIBILITY_TIMEOUT_S": "6",
           "TUNEFORGE_LEASE_S": "3", "TUNEFORGE_REPLAY_SLEEP_SCALE": "0.2", "TUNEFORGE_EVAL_TIMEOUT_S": "20"}
    subprocess.run([sys.executable, "-m", "tuneforge", "db", "upgrade"], env=env, check=True, capture_output=True)
    port = _free_port()
    procs = {}

    def start(name, args):
        log = open(tmp_path / f"{name}.log", "w")
        procs[name] = subprocess.Popen([sys.executable, "-m", "tuneforge", *args], env=env, stdout=log,
                                       stderr=subprocess.STDOUT, start_new_session=True)

    start("api", ["serve", "--port", str(port)])
    for name in ("worker1", "worker2"):
        start(name, ["worker", "--device", "sim", "--concurrency", "2"])
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/healthz").status_code == 200:
                break
        except httpx.TransportError:
            time.sleep(0.3)
    yield url, postgres_url, procs, tmp_path
    for proc in procs.values():
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
    for proc in procs.values():
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)


def _wait(predicate, timeout, what):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def test_job_survives_sigkill_of_the_worker_running_it(cluster):
    url, database_url, procs, logs = cluster
    store = JobStore(database_url)
    response = httpx.post(f"{url}/api/v1/jobs", json={"device": "replay:gemm_RTX_3090", "trials": TRIALS,
                                                      "strategy": "tpe", "parallelism": 2, "seed": 1})
    assert response.status_code == 201, response.text
    job_id = response.json()["id"]
    _wait(lambda: store.get_job(job_id)["n_trials"] >= 6, 90, "the first trials")

    owner_pid = int(store.get_job(job_id)["owner"].split(":")[1])
    victim = next(name for name, proc in procs.items()
                  if name.startswith("worker") and os.getpgid(owner_pid) == proc.pid)
    os.killpg(procs[victim].pid, signal.SIGKILL)
    stored_at_kill = store.get_job(job_id)["n_trials"]
    assert stored_at_kill < TRIALS, "the job finished before the kill; make trials slower"

    job = _wait(lambda: (j := store.get_job(job_id))["status"] in ("succeeded", "failed") and j, 150,
                "the surviving worker to finish the job")
    assert job["status"] == "succeeded", job["error"]
    trials = store.trials(job_id)
    assert [t["number"] for t in trials] == list(range(TRIALS))
    assert len({tuple(t["params"].values()) for t in trials}) == TRIALS
    assert len({t["worker"] for t in trials}) == 2, "the job should have moved to the other worker"
    seen = httpx.get(f"{url}/api/v1/devices").json()["workers"]
    assert len(seen) == 2


def test_rest_job_runs_on_workers_to_exactly_its_budget(cluster):
    url, database_url, _, _ = cluster
    job_id = httpx.post(f"{url}/api/v1/jobs", json={"device": "replay:convolution_A100", "trials": 12,
                                                    "strategy": "random"}).json()["id"]
    job = _wait(lambda: (j := httpx.get(f"{url}/api/v1/jobs/{job_id}").json())["status"] == "succeeded" and j,
                90, "the job")
    assert job["n_trials"] == 12
    assert len(httpx.get(f"{url}/api/v1/jobs/{job_id}/trials").json()) == 12
