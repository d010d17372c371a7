"""Distributed mode on the real services, deployed as the README says (`tuneforge serve`,
`tuneforge scheduler`, `tuneforge worker`), with the faults it must survive caused for real."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time

import httpx
import pytest

from tests.backbone.cluster import Cluster, PrivateRedis, assert_each_trial_once, group_alive, wait_for

pytestmark = [pytest.mark.services, pytest.mark.slow]


@pytest.fixture
def cluster(postgres_url, redis_url, tmp_path):
    cluster = Cluster(tmp_path, postgres_url, redis_url)
    yield cluster
    cluster.stop()


@pytest.fixture
def private_redis(tmp_path):
    server = PrivateRedis(tmp_path)
    server.start()
    yield server
    server.stop()


def test_eight_jobs_share_one_worker_with_two_slots(cluster):
    assert cluster.database_url.startswith("postgresql://")  # the URL people type
    cluster.serve()
    cluster.start("scheduler", "scheduler")
    cluster.worker("worker", concurrency=2)
    jobs = [cluster.submit(trials=6, strategy="random", parallelism=2, seed=i) for i in range(8)]
    for job_id in jobs:
        assert_each_trial_once(cluster.store, cluster.finished(job_id, timeout=120).id, 6)


def test_a_job_for_a_device_nobody_serves_is_refused(cluster):
    cluster.serve()
    cluster.worker("worker")
    response = httpx.post(f"{cluster.url}/api/v1/jobs", json={"target": "matmul", "device": "cuda", "trials": 3},
                          timeout=60)
    assert response.status_code == 400
    assert "no live worker serves queue eval.cuda" in response.json()["detail"]
    assert "tuneforge worker --device cuda" in response.json()["detail"]
    assert cluster.store.list_jobs() == [], "a refused job left a row behind"
    shown = subprocess.run([sys.executable, "-m", "tuneforge", "devices", "--json"], env=cluster.env,
                           capture_output=True, text=True, check=True).stdout
    live = {row["spec"]: row["live_workers"] for row in json.loads(shown)}
    assert live["cuda"] == [] and len(live["replay:gemm_RTX_3090"]) == 1
    served = httpx.get(f"{cluster.url}/api/v1/devices", timeout=60).json()["devices"]
    assert {row["spec"]: row["live_workers"] for row in served} == live
    # A worker that stops is no longer counted: its queue's jobs are refused at once.
    cluster.kill("worker", signal.SIGTERM)
    response = httpx.post(f"{cluster.url}/api/v1/jobs", json={"device": "replay:gemm_RTX_3090", "trials": 3},
                          timeout=60)
    assert response.status_code == 400 and "eval.sim" in response.json()["detail"]


def test_cancel_within_a_second_and_events_stream(cluster):
    cluster.serve()
    cluster.start("scheduler", "scheduler")
    cluster.worker("worker")
    job_id = cluster.submit(trials=10_000, strategy="random", parallelism=2)
    events = []
    with httpx.stream("GET", f"{cluster.url}/api/v1/jobs/{job_id}/events", timeout=60) as stream:
        for line in stream.iter_lines():
            if line.startswith("event: "):
                events.append(line.removeprefix("event: "))
            elif line.startswith("data: ") and events[-1] == "trial" and json.loads(line[6:])["number"] == 5:
                cancelled_at = time.monotonic()
                assert httpx.post(f"{cluster.url}/api/v1/jobs/{job_id}/cancel").json()["status"] == "cancelled"
            if events and events[-1] == "end":
                break
    job = wait_for(lambda: (j := cluster.store.get_job(job_id)).finished_at and j, 5, "the loop to stop")
    assert time.monotonic() - cancelled_at < 2.0
    assert job.status == "cancelled", "the loop's end overwrote the cancel"
    assert {"trial", "progress", "status", "end"} <= set(events)
    stopped_at = job.n_trials
    time.sleep(1.5)
    assert cluster.store.get_job(job_id).n_trials == stopped_at, "trials kept coming after the cancel"


def test_evaluation_worker_killed_again_and_again_loses_no_trial(cluster):
    cluster.env["TUNEFORGE_REPLAY_SLEEP_SCALE"] = "3"  # evaluations of about a second: kills land mid-task
    cluster.serve()
    cluster.start("scheduler", "scheduler")
    cluster.worker("steady", concurrency=1)
    cluster.worker("victim", concurrency=2)
    budget = 40
    job_id = cluster.submit(trials=budget, strategy="tpe", parallelism=3, seed=3)
    kills = 0
    while cluster.store.get_job(job_id).status in ("queued", "running") and kills < 4:
        time.sleep(1.5)
        cluster.kill("victim")  # its whole process group, as when the machine dies
        kills += 1
        cluster.worker("victim", concurrency=2)
    assert kills >= 3, "the job finished before the faults; make evaluations slower"
    trials = assert_each_trial_once(cluster.store, cluster.finished(job_id, timeout=150).id, budget)
    lost = [t for t in trials if t.status == "timeout" or "no worker" in (t.log or "")]
    assert not lost, [(t.status, t.log) for t in lost]  # the replay records its own failures too


def test_killed_scheduler_job_resumes_in_another(cluster):
    cluster.serve()
    cluster.start("scheduler-1", "scheduler")
    cluster.worker("worker")
    job_id = cluster.submit(trials=30, strategy="tpe", parallelism=2, seed=5)
    wait_for(lambda: cluster.store.get_job(job_id).n_trials >= 5, 60, "the first trials")
    cluster.kill("scheduler-1")
    assert cluster.store.get_job(job_id).n_trials < 30
    cluster.start("scheduler-2", "scheduler")
    trials = assert_each_trial_once(cluster.store, cluster.finished(job_id).id, 30)
    assert len({t.worker for t in trials}) == 2, "the second scheduler should have resumed the job"


def test_sigterm_stops_every_process_and_hands_the_job_on(cluster):
    cluster.serve()
    cluster.start("scheduler", "scheduler")
    cluster.worker("worker")
    job_id = cluster.submit(trials=10_000, strategy="random", parallelism=2)
    wait_for(lambda: cluster.store.get_job(job_id).n_trials >= 3, 60, "the first trials")
    for name in ("scheduler", "worker", "api"):
        proc = cluster.kill(name, signal.SIGTERM)
        wait_for(lambda: not group_alive(proc.pid), 20, f"every process of {name} to exit")
    job = cluster.store.get_job(job_id)
    assert job.status == "running" and job.heartbeat_at is None, "the lease was not handed on"


def test_broker_down_at_submit_and_restarted_mid_job(postgres_url, private_redis, tmp_path):
    cluster = Cluster(tmp_path, postgres_url, private_redis.url)
    try:
        cluster.serve()
        cluster.start("scheduler", "scheduler")
        cluster.worker("worker")
        private_redis.stop()
        job_id = cluster.submit(trials=30, strategy="random", parallelism=2, seed=7)  # nothing to lose: a row
        time.sleep(1.0)
        private_redis.start()
        wait_for(lambda: cluster.store.get_job(job_id).n_trials >= 5, 90, "trials after the broker came back")
        private_redis.stop()  # forgets every queued task: the loop must send them again
        time.sleep(0.5)
        private_redis.start()
        assert_each_trial_once(cluster.store, cluster.finished(job_id, timeout=150).id, 30)
    finally:
        cluster.stop()
