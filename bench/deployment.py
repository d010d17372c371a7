"""A scheduler and W evaluation workers started as people start them (`tuneforge scheduler`,
`tuneforge worker`), for the benchmarks that measure distributed mode."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

from tuneforge.core.settings import Settings
from tuneforge.db.store import JobStore


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
