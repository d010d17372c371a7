"""Kernel Tuner's cache format, both ways: import a cache file as a finished job of measured trials,
and write a target's trials as a cache file Kernel Tuner (and tuneforge's replay device) can read."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from tuneforge.core.settings import Settings
from tuneforge.core.types import Candidate, JobStatus, Objective, Provenance, TrialResult, TrialStatus
from tuneforge.db.records import JobRecord, TrialRecord
from tuneforge.db.store import JobStore

IMPORT_STRATEGY = "import:kernel-tuner"


def import_kernel_tuner_cache(settings: Settings, path: Path) -> JobRecord:
    """One succeeded job per file: each cache entry a trial (a Kernel Tuner error string is an invalid
    trial), measured on the file's device, with the file and its hash as provenance. Returns the job."""
    from tuneforge.db.imports import store_imported_trials
    from tuneforge.evaluators.registry import resolve_device
    from tuneforge.search.jobspec import JobSpec
    from tuneforge.search.provenance import versions
    from tuneforge.search.results import summarize

    device = resolve_device(f"replay:{path}", settings)  # reads and checks the file
    recorded = device.recorded
    target = device.own_target()
    origin = {"format": "kernel-tuner-cache", "file": str(recorded.path),
              "sha256": hashlib.sha256(recorded.path.read_bytes()).hexdigest(), "device_name": recorded.device_name,
              "kernel_name": recorded.kernel_name}
    objective = Objective("time_ms", "minimize")
    spec = JobSpec(target=target.name, family=target.family, problem=target.default_problem(), device=device.spec,
                   strategy=IMPORT_STRATEGY, objectives=[objective], constraints=[],
                   budget_trials=len(recorded.entries), budget_seconds=None, parallelism=1, seed=0,
                   options={"imported_from": origin})
    store = JobStore(settings.database_url)
    job_id = store.create_job(spec)
    trials = []
    for key in sorted(recorded.entries, key=repr):
        entry = recorded.entries[key]
        params = dict(zip((p.name for p in recorded.params), key))
        timed = isinstance(entry.get("time"), (int, float))
        result = TrialResult(status=TrialStatus.OK if timed else TrialStatus.INVALID,
                             metrics={"time_ms": float(entry["time"])} if timed else {},
                             provenance=Provenance.MEASURED, device_name=recorded.device_name,
                             log=f"imported from Kernel Tuner cache {recorded.path.name}"
                             + ("" if timed else f": {entry.get('time')}"))
        trials.append((Candidate(params, origin=IMPORT_STRATEGY), result,
                       [result.metrics["time_ms"]] if timed else None))
    try:
        store_imported_trials(settings.database_url, job_id, trials)
    except Exception as exc:
        store.finish_job(job_id, None, JobStatus.FAILED, error=f"import failed, no trial stored: {exc}")
        raise
    job = store.get_job(job_id)
    store.finish_job(job_id, None, JobStatus.SUCCEEDED, result=summarize(job, store.trials(job_id)))
    job = store.get_job(job_id)
    best = (job.result or {}).get("best")
    if best is not None:
        trial = store.trials(job_id, after=best["number"] - 1, limit=1)[0]
        store.upsert_best(job=job, trial=trial, objective=objective, versions={**versions(), "imported": origin})
    return job


def kernel_tuner_cache(target: str, records: list[dict[str, Any]], trials: list[TrialRecord],
                       device_name: str) -> str:
    """A Kernel Tuner cache (``tune_params_keys``, ``tune_params``, ``cache``) of one target's timed trials."""
    timed = [t for t in trials if t.status == "ok" and (t.metrics or {}).get("time_ms") is not None]
    keys = list(dict.fromkeys(k for t in timed for k in t.params))
    cache: dict[str, Any] = {}
    for t in timed:
        name = ",".join(str(t.params.get(k)) for k in keys)
        if name not in cache or t.metrics["time_ms"] < cache[name]["time"]:
            cache[name] = {**t.params, "time": t.metrics["time_ms"], "provenance": t.provenance}
    problem = records[0]["dims"] if records else {}
    return json.dumps({"device_name": device_name, "kernel_name": target, "problem_size": list(problem.values()),
                       "tune_params_keys": keys,
                       "tune_params": {k: sorted({t.params[k] for t in timed if k in t.params}, key=repr)
                                       for k in keys},
                       "objective": "time", "cache": cache}, indent=1)
