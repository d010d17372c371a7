"""How the benchmarks run jobs: a replayed job to its end in this process on a temporary SQLite file
(embedded mode), or a scheduler and W evaluation workers started as people start them
(`tuneforge scheduler`, `tuneforge worker`) for distributed mode."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from tuneforge.core.settings import Settings
from tuneforge.db.records import TrialRecord
from tuneforge.db.store import JobStore
from tuneforge.search.jobspec import build_job_spec

DEVICE = "replay:gemm_RTX_3090"  # a measured space, replayed: evaluations cost ~0 unless told to sleep


def run_embedded(settings: Settings, *, trials: int, seed: int = 0,
                 sleep_scale: float = 0.0) -> tuple[list[TrialRecord], float]:
    """A random-search job on ``DEVICE`` run here to its end; its trials and the wall seconds it took."""
    from tuneforge.worker.jobs import run_job_embedded

    with tempfile.TemporaryDirectory() as tmp:
        local = settings.model_copy(update={"database_url": f"sqlite:///{Path(tmp) / 'bench.db'}",
                                            "broker_url": None, "replay_sleep_scale": sleep_scale})
        store = JobStore(local.database_url)
        job_id = store.create_job(build_job_spec(local, target=None, device=DEVICE, strategy="random",
                                                 trials=trials, seed=seed))
        started = time.perf_counter()
        run_job_embedded(job_id, local)
        return store.trials(job_id), time.perf_counter() - started


class Deployment:
    """Starts the processes and waits until every worker has reported for work; ``stop`` ends them."""

    def __init__(self, settings: Settings, *, workers: int, concurrency: int, sleep_scale: float) -> None:
        self.env = {**os.environ, "TUNEFORGE_DATABASE_URL": settings.database_url,
                    "TUNEFORGE_BROKER_URL": settings.broker_url or "", "TUNEFORGE_SPACES_DIR": str(settings.spaces_dir),
                    "TUNEFORGE_REPLAY_SLEEP_SCALE": f"{sleep_scale:g}", "TUNEFORGE_WORKER_HEARTBEAT_S": "1"}
        self.procs = [self._spawn("scheduler")]
        self.procs += [self._spawn("worker", "--device", "sim", "--concurrency", str(concurrency))
                       for _ in range(workers)]
        store = JobStore(settings.database_url)
        deadline = time.monotonic() + 120
        pids = {p.pid for p in self.procs[1:]}
        while {int(w.name.split("-")[1].split("@")[0]) for w in store.workers(within_s=3)} & pids != pids:
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError("the workers did not report for work within 120 s")
            time.sleep(0.2)

    def _spawn(self, *args: str) -> subprocess.Popen:
        return subprocess.Popen([sys.executable, "-m", "tuneforge", *args], env=self.env, stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL, start_new_session=True)

    def stop(self) -> None:
        for proc in self.procs:
            os.killpg(proc.pid, signal.SIGTERM)
        for proc in self.procs:
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
