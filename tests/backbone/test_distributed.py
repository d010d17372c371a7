"""Distributed mode on the real services, deployed as the README says (`tuneforge serve`,
`tuneforge scheduler`, `tuneforge worker`), with the faults it must survive caused for real."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time

import httpx
import pytest

from tests.backbone.cluster import (Cluster, PrivatePostgres, PrivateRedis, assert_each_trial_once, group_alive,
                                    wait_for)
from tests.conftest import unavailable
from tuneforge.db.accounts import KeyStore

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


@pytest.fixture
def private_postgres():
    server = PrivatePostgres()
    if server.bin is None:
        unavailable("PostgreSQL's server programs (/usr/lib/postgresql/*/bin) are not installed")
    server.init()
    server.start()
    yield server
    server.remove()


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
    page = httpx.get(f"{cluster.url}/dashboard/workers", timeout=60).text  # open on loopback: no sign-in
    rows = dict(re.findall(r'<tr data-queue="([\w.]+)">(.*?)</tr>', page, re.S))
    assert live["replay:gemm_RTX_3090"][0] in rows["eval.sim"] and "none" not in rows["eval.sim"]
    assert "none: jobs for its devices are refused" in rows["eval.cuda"]
    # A worker that stops is no longer counted: its queue's jobs are refused at once.
    cluster.kill("worker", signal.SIGTERM)
    response = httpx.post(f"{cluster.url}/api/v1/jobs", json={"device": "replay:gemm_RTX_3090", "trials": 3},
                          timeout=60)
    assert response.status_code == 400 and "eval.sim" in response.json()["detail"]


def test_slots_are_shared_fairly_between_accounts(cluster):
    keys = {account: KeyStore(cluster.database_url).create(f"{account}-key", account, ("read", "submit"))[1]
            for account in ("alice", "bob")}
    cluster.env["TUNEFORGE_REPLAY_SLEEP_SCALE"] = "0.3"
    cluster.serve()
    cluster.worker("worker", concurrency=4)
    # Alice runs two jobs, Bob one, each asking for all four slots. In proportion to what they ask
    # Bob would get a third of the slots; shared by account he gets half.
    jobs = {cluster.submit(keys["alice"], trials=10_000, strategy="random", parallelism=4, seed=i): "alice"
            for i in range(2)}
    jobs[cluster.submit(keys["bob"], trials=10_000, strategy="random", parallelism=4, seed=9)] = "bob"
    cluster.start("scheduler", "scheduler")  # after the submits: no job runs alone at first
    wait_for(lambda: sum(cluster.store.get_job(j).n_trials for j in jobs) >= 150, 120, "150 trials")
    for job_id in jobs:
        cluster.store.cancel_job(job_id)
    busy = {"alice": 0.0, "bob": 0.0}
    for job_id, account in jobs.items():
        busy[account] += sum(t.timings["wall_s"] for t in cluster.store.trials(job_id))
    assert busy["bob"] / (busy["alice"] + busy["bob"]) > 0.42, busy


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


def test_evaluation_worker_killed_twenty_times_loses_no_trial_and_stores_none_twice(cluster):
    cluster.env["TUNEFORGE_REPLAY_SLEEP_SCALE"] = "0.5"  # evaluations of about a third of a second
    # The same task can be caught by kill after kill, each costing a visibility timeout before it comes
    # back; the loop's backstop for lost messages (visibility + 2 x eval timeout + 30 s) must outlast that.
    cluster.env["TUNEFORGE_EVAL_TIMEOUT_S"] = "90"
    cluster.serve()
    cluster.start("scheduler", "scheduler")
    cluster.worker("victim", concurrency=2)
    # More candidates in flight than the victim has slots: each restart finds work waiting at once,
    # and the job advances only while the victim lives, so it outlasts the kills on any machine.
    budget = 60
    job_id = cluster.submit(trials=budget, strategy="tpe", parallelism=6, seed=3)
    wait_for(lambda: cluster.store.get_job(job_id).n_trials >= 1, 90, "the first trial")
    for kill in range(20):
        received = cluster.tasks_received("victim")
        wait_for(lambda: len(cluster.tasks_received("victim")) > len(received), 60, f"a task before kill {kill}")
        time.sleep(0.1)  # the kill lands mid-evaluation
        celery, pool = cluster.celery_worker("victim")
        for pid in (celery, *pool):  # as when the machine dies; its supervisor starts a fresh worker
            os.kill(pid, signal.SIGKILL)
        wait_for(lambda: (current := cluster.celery_worker("victim")) is None or current[0] != celery, 30,
                 "the killed worker to be gone")
    assert cluster.store.get_job(job_id).n_trials < budget, "the job finished before the faults"
    trials = assert_each_trial_once(cluster.store, cluster.finished(job_id, timeout=150).id, budget)
    lost = [t for t in trials if t.status == "timeout" or "no worker" in (t.log or "")]
    assert not lost, [(t.status, t.log) for t in lost]  # the replay records its own failures too
    received = cluster.tasks_received("victim")
    assert len(received) - len(set(received)) >= 10, "too few kills caught a task mid-evaluation"


def test_postgres_restarted_mid_job_the_job_completes(private_postgres, redis_url, tmp_path):
    cluster = Cluster(tmp_path, private_postgres.url, redis_url)
    try:
        cluster.serve()
        cluster.start("scheduler", "scheduler")
        cluster.worker("worker")
        job_id = cluster.submit(trials=30, strategy="tpe", parallelism=2, seed=11)
        wait_for(lambda: cluster.store.get_job(job_id).n_trials >= 5, 90, "the first trials")
        private_postgres.stop()  # every connection of every process is cut
        time.sleep(1.0)
        private_postgres.start()
        assert cluster.store.get_job(job_id).n_trials < 30, "the job finished before the restart"
        assert_each_trial_once(cluster.store, cluster.finished(job_id, timeout=150).id, 30)
    finally:
        cluster.stop()


def test_time_budget_stops_a_distributed_job(cluster):
    cluster.serve()
    cluster.start("scheduler", "scheduler")
    cluster.worker("worker")
    budget_s, parallelism = 10.0, 2  # the replayed evaluations charge about 0.7 s each
    job_id = cluster.submit(trials=500, seconds=budget_s, strategy="random", parallelism=parallelism, seed=13)
    job = cluster.finished(job_id)
    assert job.status == "succeeded", job.error
    trials = cluster.store.trials(job_id)
    assert [t.number for t in trials] == list(range(len(trials))) and len(trials) < 500
    costs = [t.cost_s for t in trials]
    # Nothing is sent once the budget is spent; what was in flight then still counts.
    assert sum(costs) >= budget_s
    assert sum(costs[:-parallelism]) < budget_s, "candidates were sent after the time budget was spent"
    assert job.spent_seconds == pytest.approx(sum(costs))


def test_the_worker_owns_the_evaluation_timeout(cluster):
    cluster.env.update(TUNEFORGE_EVAL_TIMEOUT_S="1", TUNEFORGE_REPLAY_SLEEP_SCALE="20")  # evaluations of ~14 s
    cluster.serve()
    cluster.start("scheduler", "scheduler")
    cluster.worker("worker")
    job_id = cluster.submit(trials=4, strategy="random", parallelism=2, seed=17)
    trials = assert_each_trial_once(cluster.store, cluster.finished(job_id, timeout=120).id, 4)
    assert {t.status for t in trials} == {"timeout"}
    assert all("overran its time limit of 1 s" in t.log for t in trials), [t.log for t in trials]
    received = cluster.tasks_received("worker")
    assert len(received) == len(set(received)), "a timed-out evaluation was run again"


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
