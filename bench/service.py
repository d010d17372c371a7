"""``tuneforge bench service``: the service's own cost and throughput, measured side by side.

- overhead: seconds per trial of a tuneforge job (TPE, evaluation ~0) against plain Optuna with
  ``RDBStorage`` and the same TPE sampler on the same database, evaluating the same replayed
  space in-process;
- throughput: K jobs x P parallel candidates on W evaluation worker processes (one slot each) with
  replayed evaluations slowed to about ``eval_ms``, against the ideal ``W / mean evaluation time``;
- scaling: the same workload on 1, 2 and 4 workers;
- Redis commands and database transactions per trial, from ``INFO commandstats`` and
  ``pg_stat_database`` over the throughput runs.
"""

from __future__ import annotations

import functools
import statistics
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from tuneforge.bench.deployment import DEVICE, Deployment, run_embedded
from tuneforge.core.settings import Settings
from tuneforge.core.types import Candidate, Problem, TrialStatus
from tuneforge.db.session import get_engine, normalize_url
from tuneforge.db.store import JobStore
from tuneforge.evaluators.registry import resolve_device, resolve_target
from tuneforge.search.encoding import decode, distributions
from tuneforge.search.jobspec import build_job_spec
from tuneforge.search.strategies import get_strategy
from tuneforge.search.strategies._base import StrategyContext



@dataclass
class Overhead:
    database: str
    strategy: str  # tpe: the same sampler on both sides; random: the service's own cost alone
    trials: int
    tuneforge_ms: float  # per trial, all of it
    optuna_rdb_ms: float
    tuneforge_sampler_ms: float  # per trial, inside the sampler's own methods (the same code on both sides)
    optuna_rdb_sampler_ms: float

    @property
    def ratio(self) -> float:
        return self.optuna_rdb_ms / self.tuneforge_ms

    @property
    def tuneforge_around_sampler_ms(self) -> float:
        return self.tuneforge_ms - self.tuneforge_sampler_ms

    @property
    def optuna_rdb_around_sampler_ms(self) -> float:
        return self.optuna_rdb_ms - self.optuna_rdb_sampler_ms

    @property
    def ratio_around_sampler(self) -> float:
        """The service's own cost: the time of a trial outside the sampler, Optuna RDB over tuneforge."""
        return self.optuna_rdb_around_sampler_ms / self.tuneforge_around_sampler_ms


@dataclass
class Throughput:
    workers: int
    jobs: int
    parallel: int
    trials: int
    wall_s: float
    mean_eval_ms: float
    trials_per_s: float
    ideal_per_s: float
    redis_commands_per_trial: float
    db_transactions_per_trial: float
    redis_by_command: dict[str, float] = field(default_factory=dict)

    @property
    def fraction_of_ideal(self) -> float:
        return self.trials_per_s / self.ideal_per_s


# -- overhead ----------------------------------------------------------------------------------------
def _per_trial_ms(stamps: list[datetime]) -> float:
    """Steady-state cost: from the first stored trial to the last, so start-up is not counted."""
    stamps = sorted(stamps)
    return (stamps[-1] - stamps[0]).total_seconds() * 1000 / (len(stamps) - 1)


SAMPLER_METHODS = ("infer_relative_search_space", "sample_relative", "sample_independent", "before_trial",
                   "after_trial")


@contextmanager
def time_in_sampler(sampler_class: type) -> Iterator[list[float]]:
    """Seconds spent inside ``sampler_class``'s own methods while the block runs (outermost calls only)."""
    spent, depth = [0.0], threading.local()
    originals = {name: sampler_class.__dict__.get(name) for name in SAMPLER_METHODS}

    def timed(method):
        @functools.wraps(method)
        def call(*args, **kwargs):
            outer = getattr(depth, "n", 0) == 0
            depth.n = getattr(depth, "n", 0) + 1
            started = time.perf_counter()
            try:
                return method(*args, **kwargs)
            finally:
                depth.n -= 1
                if outer:
                    spent[0] += time.perf_counter() - started
        return call

    for name in SAMPLER_METHODS:
        setattr(sampler_class, name, timed(getattr(sampler_class, name)))
    try:
        yield spent
    finally:
        for name, original in originals.items():
            if original is None:
                delattr(sampler_class, name)
            else:
                setattr(sampler_class, name, original)


def _strategy_sampler(settings: Settings, strategy: str, trials: int):
    """The sampler a tuneforge job of ``strategy`` builds for ``DEVICE``'s space."""
    device = resolve_device(DEVICE, settings)
    target = resolve_target(None, device)
    ctx = StrategyContext(space=target.space(Problem()), objectives=[], constraints=[], seed=1, parallelism=1,
                          budget_trials=trials, target_name=target.name, problem=Problem(), device=device.spec,
                          job_id="bench", settings=settings)
    return get_strategy(strategy).sampler(ctx)


def tuneforge_overhead_ms(settings: Settings, trials: int, strategy: str,
                          sampler_class: type) -> tuple[float, float]:
    """A job's milliseconds per trial, and of those, inside its sampler (of ``sampler_class``)."""
    from tuneforge.worker.jobs import run_job_embedded

    store = JobStore(settings.database_url)
    job_id = store.create_job(build_job_spec(settings, target=None, device=DEVICE, strategy=strategy, trials=trials,
                                             seed=1))
    with time_in_sampler(sampler_class) as spent:
        run_job_embedded(job_id, settings)
    return _per_trial_ms([t.created_at for t in store.trials(job_id)]), spent[0] * 1000 / trials


def optuna_rdb_ms(settings: Settings, trials: int, sampler) -> tuple[float, float]:
    """Plain Optuna on ``RDBStorage`` with ``sampler`` (the very one a tuneforge job builds) and the
    job's parameter encoding, asked and told as the job's engine does, so that only what runs around
    the sampler differs: milliseconds per trial, and of those, inside the sampler."""
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    device = resolve_device(DEVICE, settings)
    target = resolve_target(None, device)
    space = target.space(Problem())
    dists = distributions(space)
    storage = optuna.storages.RDBStorage(_beside(settings.database_url))
    study = optuna.create_study(storage=storage, sampler=sampler, study_name=f"bench-{time.time_ns()}")
    with time_in_sampler(type(sampler)) as spent:
        for _ in range(trials):
            trial = study.ask(dists)
            result = device.evaluate(target, Problem(), Candidate(params=decode(space, trial.params)))
            study.tell(trial, result.metrics["time_ms"] if result.status == TrialStatus.OK else 1e9)
    return _per_trial_ms([t.datetime_complete for t in study.trials]), spent[0] * 1000 / trials


def _beside(database_url: str) -> str:
    """Optuna's tables on the same server, apart from ours (both keep an ``alembic_version`` table):
    a sibling SQLite file, or a schema of its own in the same PostgreSQL database."""
    if database_url.startswith("sqlite:///"):
        return database_url.removesuffix(".db") + "-optuna.db"
    from sqlalchemy import text

    with get_engine(database_url).begin() as conn:
        conn.execute(text("CREATE SCHEMA IF NOT EXISTS optuna_bench"))
    return normalize_url(database_url) + ("&" if "?" in database_url else "?") + "options=-csearch_path%3Doptuna_bench"


def overhead(settings: Settings, database_url: str, label: str, trials: int, strategy: str) -> Overhead:
    local = settings.model_copy(update={"database_url": database_url, "broker_url": None, "replay_sleep_scale": 0.0})
    sampler = _strategy_sampler(local, strategy, trials)  # Optuna's side runs it; tuneforge's job builds its own
    (ours, ours_sampler), (theirs, theirs_sampler) = (tuneforge_overhead_ms(local, trials, strategy, type(sampler)),
                                                      optuna_rdb_ms(local, trials, sampler))
    return Overhead(label, strategy, trials, ours, theirs, ours_sampler, theirs_sampler)


# -- throughput ------------------------------------------------------------------------------------
def sleep_scale_for(settings: Settings, eval_ms: float) -> float:
    """The replay sleep scale at which this device's evaluations take about ``eval_ms`` on average."""
    trials, _ = run_embedded(settings, trials=60, seed=2, sleep_scale=0.01)
    return 0.01 * eval_ms / 1000 / statistics.mean(t.timings["wall_s"] for t in trials)


def _redis_commands(client) -> dict[str, int]:
    return {name.removeprefix("cmdstat_"): stats["calls"] for name, stats in client.info("commandstats").items()}


def _db_transactions(database_url: str) -> int:
    from sqlalchemy import text

    with get_engine(database_url).connect() as conn:
        return conn.execute(text("SELECT xact_commit + xact_rollback FROM pg_stat_database "
                                 "WHERE datname = current_database()")).scalar()


def throughput(settings: Settings, *, workers: int, jobs: int, parallel: int, trials: int,
               sleep_scale: float) -> Throughput:
    import redis

    client = redis.Redis.from_url(settings.broker_url)
    deployment = Deployment(settings, workers=workers, concurrency=1, sleep_scale=sleep_scale)
    try:
        store = JobStore(settings.database_url)
        redis_before, db_before = _redis_commands(client), _db_transactions(settings.database_url)
        ids = [store.create_job(build_job_spec(settings, target=None, device=DEVICE, strategy="random", trials=trials,
                                               parallelism=parallel, seed=100 + i)) for i in range(jobs)]
        while any(store.get_job(j).status in ("queued", "running") for j in ids):
            time.sleep(0.2)
        redis_after, db_after = _redis_commands(client), _db_transactions(settings.database_url)
    finally:
        deployment.stop()
    stored = [t for j in ids for t in store.trials(j)]
    stamps = sorted(t.created_at for t in stored)
    wall = (stamps[-1] - stamps[0]).total_seconds()
    mean_eval = statistics.mean(t.timings["wall_s"] for t in stored)
    n = len(stored)
    # The polls of this process (job status, stats) are not the service's: leave them out of Redis;
    # the database count includes this process's polls and is an upper bound.
    by_command = {c: (redis_after.get(c, 0) - redis_before.get(c, 0)) / n for c in redis_after}
    by_command = {c: round(v, 2) for c, v in sorted(by_command.items(), key=lambda kv: -kv[1]) if v > 0 and c != "info"}
    return Throughput(workers, jobs, parallel, n, wall, mean_eval * 1000, (n - 1) / wall, workers / mean_eval,
                      sum(by_command.values()), (db_after - db_before) / n, by_command)


def report(overheads: list[Overhead], runs: list[Throughput]) -> dict[str, Any]:
    out: dict[str, Any] = {"device": f"{DEVICE} (replayed measurements; evaluations sleep to rehearse timing)"}
    for o in overheads:
        out[f"tuneforge_{o.strategy}_ms_per_trial_{o.database}"] = round(o.tuneforge_ms, 2)
        out[f"optuna_rdb_{o.strategy}_ms_per_trial_{o.database}"] = round(o.optuna_rdb_ms, 2)
        out[f"ratio_optuna_rdb_{o.strategy}_over_tuneforge_{o.strategy}_{o.database}"] = round(o.ratio, 2)
        out[f"tuneforge_{o.strategy}_sampler_ms_per_trial_{o.database}"] = round(o.tuneforge_sampler_ms, 2)
        out[f"optuna_rdb_{o.strategy}_sampler_ms_per_trial_{o.database}"] = round(o.optuna_rdb_sampler_ms, 2)
        out[f"ratio_optuna_rdb_{o.strategy}_over_tuneforge_{o.strategy}_around_sampler_{o.database}"] = round(
            o.ratio_around_sampler, 2)
    by_workers = {r.workers: r for r in runs}
    for r in runs:
        out[f"throughput_{r.jobs}jobs_x{r.parallel}_on_{r.workers}workers"] = {
            **{k: (round(v, 3) if isinstance(v, float) else v) for k, v in asdict(r).items()},
            "fraction_of_ideal": round(r.fraction_of_ideal, 3)}
    base = by_workers.get(1)
    for w, r in by_workers.items():
        if base is not None and w != 1:
            out[f"speedup_{w}workers_over_1worker"] = round(r.trials_per_s / base.trials_per_s, 2)
    return out
