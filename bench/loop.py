"""Per-trial overhead of the tuning loop, measured on a replay device (evaluation costs ~0).

Embedded mode runs in this process on a temporary SQLite file. Distributed mode starts a
scheduler and two workers against the given broker and database, stores a queued job for the
scheduler to claim, and stops them afterwards.
"""

from __future__ import annotations

import statistics
import time
from dataclasses import dataclass

from tuneforge.bench.deployment import DEVICE, Deployment, run_embedded
from tuneforge.core.settings import Settings
from tuneforge.db.records import TrialRecord
from tuneforge.db.store import JobStore
from tuneforge.search.jobspec import build_job_spec


@dataclass
class Overhead:
    mode: str
    trials: int
    median_ms: float
    p90_ms: float
    total_s: float


def _measure(trials: list[TrialRecord], mode: str, wall_s: float) -> Overhead:
    stamps = [t.created_at for t in trials]
    gaps = sorted((b - a).total_seconds() * 1000 for a, b in zip(stamps, stamps[1:]))
    return Overhead(mode, len(stamps), statistics.median(gaps), gaps[int(0.9 * (len(gaps) - 1))], wall_s)


def embedded(trials: int, settings: Settings) -> Overhead:
    trials_run, wall_s = run_embedded(settings, trials=trials)
    return _measure(trials_run, "embedded (SQLite, local pool)", wall_s)


def distributed(trials: int, settings: Settings) -> Overhead:
    deployment = Deployment(settings, workers=2, concurrency=2, sleep_scale=0.0)
    try:
        store = JobStore(settings.database_url)
        job_id = store.create_job(build_job_spec(settings, target=None, device=DEVICE, strategy="random",
                                                 trials=trials))
        started = time.perf_counter()
        while store.get_job(job_id).status in ("queued", "running"):
            time.sleep(0.2)
        return _measure(store.trials(job_id), "distributed (Redis + PostgreSQL, scheduler + 2 workers)", time.perf_counter() - started)
    finally:
        deployment.stop()
