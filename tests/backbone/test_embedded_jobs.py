"""A job run in embedded mode: exact budgets, stored trials, best configs, seeds, resume, cancel."""

from __future__ import annotations

import multiprocessing
import os
import signal
import time
from pathlib import Path

import pytest

from tuneforge.api.submit import submit_job
from tuneforge.core.errors import UserInputError
from tuneforge.db.store import JobStore
from tuneforge.evaluators.devices.triton_cuda import gpu_visible
from tuneforge.search.jobspec import build_job_spec
from tests.backbone.helpers import GEMM, create_job
from tuneforge.worker.jobs import run_job_embedded
from tuneforge.worker.supervise import children


def test_job_stores_exactly_its_budget_and_the_best_config(settings):
    job_id = create_job(settings, strategy="tpe", trials=40, seed=3)
    job = run_job_embedded(job_id, settings)
    store = JobStore(settings.database_url)
    trials = store.trials(job_id)
    assert job.status == "succeeded"
    assert [t.number for t in trials] == list(range(40))
    assert len({tuple(t.params.values()) for t in trials}) == 40, "a config was evaluated twice"
    ok_times = [t.values[0] for t in trials if t.status == "ok"]
    assert job.best_value == min(ok_times)
    [best] = store.best_configs(target="Xgemm", device=GEMM)
    assert best.value == min(ok_times) and best.provenance == "replayed"
    assert best.job_id == job_id and best.strategy == "tpe" and best.seed == 3
    assert "RTX 3090" in best.device_name and best.versions["optuna"]


def test_best_config_is_only_replaced_by_a_better_one(settings):
    store = JobStore(settings.database_url)
    first = run_job_embedded(create_job(settings, strategy="random", trials=60, seed=1), settings)
    second = run_job_embedded(create_job(settings, strategy="random", trials=3, seed=2), settings)
    [best] = store.best_configs(target="Xgemm")
    assert best.value == min(first.best_value, second.best_value)


def test_same_seed_same_trials(settings):
    runs = [run_job_embedded(create_job(settings, strategy="tpe", trials=25, seed=11), settings) for _ in range(2)]
    store = JobStore(settings.database_url)
    params = [[t.params for t in store.trials(run.id)] for run in runs]
    assert params[0] == params[1]
    other = run_job_embedded(create_job(settings, strategy="tpe", trials=25, seed=12), settings)
    assert [t.params for t in store.trials(other.id)] != params[0]


@pytest.mark.parametrize("strategy", ["tpe", "random", "grid", "cmaes"])
def test_every_strategy_runs_a_job(settings, strategy):
    job = run_job_embedded(create_job(settings, strategy=strategy, trials=15), settings)
    assert job.status == "succeeded" and job.n_trials == 15


def test_time_budget_stops_on_charged_seconds(settings):
    job = run_job_embedded(create_job(settings, strategy="random", trials=1000, seconds=5.0), settings)
    trials = JobStore(settings.database_url).trials(job.id)
    spent = sum(t.cost_s for t in trials)
    assert job.status == "succeeded" and 0 < len(trials) < 1000
    assert spent >= 5.0 and spent - trials[-1].cost_s < 5.0, "stopped at the first trial past the budget"


def test_failed_configs_are_results_with_their_status(settings):
    job = run_job_embedded(create_job(settings, device="replay:pnpoly_RTX_3090", strategy="random", trials=150,
                                      seed=5), settings)
    statuses = {t.status for t in JobStore(settings.database_url).trials(job.id)}
    assert "ok" in statuses and statuses - {"ok"}, f"expected recorded failures among {statuses}"


@pytest.mark.parametrize("request_, fix", [
    (dict(device="replay:missing_file"), "no replay space"),
    (dict(device="warp-drive"), "unknown device"),
    (dict(trials=-5), "at least 1"),
    (dict(strategy="annealing"), "unknown strategy"),
    (dict(shape="M=12"), "fixed problem"),
    (dict(seconds=-1.0), "seconds"),
])
def test_bad_input_names_the_fix_and_writes_nothing(settings, request_, fix):
    store = JobStore(settings.database_url)
    before = store.list_jobs()
    request = {"target": None, "device": GEMM, **request_}
    with pytest.raises(UserInputError, match=fix):
        build_job_spec(settings, **request)
    assert store.list_jobs() == before


def _run_in_child(settings_dict: dict, job_id: str) -> None:
    from tuneforge.core.settings import Settings

    run_job_embedded(job_id, Settings(**settings_dict))


def test_killed_job_resumes_from_its_stored_trials(settings):
    """SIGKILL the process running a job halfway; a new runner continues it without losing or
    repeating a trial."""
    settings = settings.model_copy(update={"replay_sleep_scale": 0.05, "lease_s": 1.0, "embedded_workers": 1})
    store = JobStore(settings.database_url)
    job_id = create_job(settings, strategy="tpe", trials=30, seed=4)
    child = multiprocessing.get_context("spawn").Process(target=_run_in_child,
                                                         args=(settings.model_dump(mode="json"), job_id))
    child.start()
    deadline = time.monotonic() + 120
    while store.get_job(job_id).n_trials < 8 and time.monotonic() < deadline:
        time.sleep(0.05)
    pool = children(child.pid)
    assert pool, "the runner should have started its evaluation pool"
    os.kill(child.pid, signal.SIGKILL)
    child.join()
    deadline = time.monotonic() + 10
    while any(Path(f"/proc/{pid}").exists() for pid in pool) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not [pid for pid in pool if Path(f"/proc/{pid}").exists()], "the pool outlived its job's process"
    before = store.trials(job_id)
    assert 8 <= len(before) < 30 and store.get_job(job_id).status == "running"
    time.sleep(settings.lease_s * 1.5)  # the dead runner's lease goes stale
    job = run_job_embedded(job_id, settings.model_copy(update={"replay_sleep_scale": 0.0}))
    after = store.trials(job_id)
    assert job.status == "succeeded"
    assert [t.number for t in after] == list(range(30))
    assert [t.params for t in after[:len(before)]] == [t.params for t in before]
    assert len({tuple(t.params.values()) for t in after}) == 30


def test_live_lease_is_not_taken_over(settings):
    store = JobStore(settings.database_url)
    job_id = create_job(settings, trials=5)
    assert store.claim_job(job_id, "worker-a", lease_s=60)
    assert not store.claim_job(job_id, "worker-b", lease_s=60)
    assert store.claim_job(job_id, "worker-a", lease_s=60)


def test_cancel_queued_and_running_jobs(settings):
    store = JobStore(settings.database_url)
    queued = create_job(settings, trials=5)
    assert store.cancel_job(queued).status == "cancelled"
    running = create_job(settings, trials=500)

    def cancel_after_ten(job, trial):
        if trial["number"] == 10:
            store.cancel_job(job.id)

    from tuneforge.search.loop import TuningLoop
    from tuneforge.worker.local_pool import LocalPoolRunner

    evaluator = LocalPoolRunner(settings)
    try:
        job = TuningLoop(store, settings, evaluator, owner="test", on_trial=cancel_after_ten).run(running)
    finally:
        evaluator.close()
    assert job.status == "cancelled" and 11 <= job.n_trials < 500


@pytest.mark.skipif(gpu_visible(), reason="checks the refusal on machines without a GPU")
def test_a_cuda_job_without_a_gpu_is_refused_at_submit(settings):
    with pytest.raises(UserInputError, match="unavailable here: no NVIDIA GPU") as refused:
        submit_job(settings, {"target": "matmul", "device": "cuda", "trials": 3})
    assert "--device sim:h100" in str(refused.value)
    assert JobStore(settings.database_url).list_jobs() == [], "a refused job left a row behind"
