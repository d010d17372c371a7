"""The tuning loop around the engine: warm start from the database, resume after a kill."""

from __future__ import annotations

import pytest

from tuneforge.db.store import JobStore
from tuneforge.search.loop import TuningLoop
from tests.backbone.helpers import create_job
from tests.search.helpers import InProcessEvaluator, WorkerKilled

OTHER_GPU = "replay:gemm_RTX_2080_Ti"
GPU = "replay:gemm_RTX_3090"


def _run(settings, job_id, evaluator=None):
    return TuningLoop(JobStore(settings.database_url), settings, evaluator or InProcessEvaluator(settings),
                      owner="test-worker").run(job_id)


def test_a_job_on_a_new_gpu_starts_from_the_best_config_of_the_same_kernel_elsewhere(settings):
    store = JobStore(settings.database_url)
    first = _run(settings, create_job(settings, device=OTHER_GPU, strategy="random", trials=20, seed=1))
    [donor] = store.best_configs(target="Xgemm", device=OTHER_GPU)
    second = _run(settings, create_job(settings, device=GPU, strategy="bo", trials=20, seed=1))
    trials = store.trials(second.id)
    assert first.status == second.status == "succeeded"
    assert trials[0].origin == "warm-start" and trials[0].params == donor.params
    assert OTHER_GPU in trials[0].note
    assert all(t.origin != "warm-start" for t in trials[1:])
    assert len(trials) == 20


def test_rerun_on_the_same_gpu_gets_no_warm_start(settings):
    store = JobStore(settings.database_url)
    _run(settings, create_job(settings, device=GPU, strategy="random", trials=10))
    again = _run(settings, create_job(settings, device=GPU, strategy="random", trials=10))
    assert all(t.origin != "warm-start" for t in store.trials(again.id))


def test_resume_after_a_kill_continues_from_the_stored_trials(settings):
    store = JobStore(settings.database_url)
    job_id = create_job(settings, strategy="bandit", trials=24, parallelism=4, seed=5)
    with pytest.raises(WorkerKilled):
        _run(settings, job_id, InProcessEvaluator(settings, kill_after=10))
    before = store.trials(job_id)
    assert len(before) == 10 and store.get_job(job_id).status == "running"
    job = _run(settings, job_id)  # the same worker comes back and takes its lease again
    after = store.trials(job_id)
    assert job.status == "succeeded"
    assert [t.number for t in after] == list(range(24))
    assert after[:10] == before, "stored trials must not change on resume"
    assert len({tuple(t.params.values()) for t in after}) == 24, "a config was evaluated twice"


def test_parallel_job_refills_each_free_slot_at_once(settings):
    """With N workers, each result frees a slot that gets a new candidate before the next wait:
    N stay busy until the budget runs out, instead of waiting for a whole batch."""
    evaluator = InProcessEvaluator(settings)
    job = _run(settings, create_job(settings, strategy="bandit", trials=12, parallelism=4, seed=2), evaluator)
    assert job.status == "succeeded" and job.n_trials == 12
    assert evaluator.last_session.in_flight_at_wait == [4] * 9 + [3, 2, 1]
