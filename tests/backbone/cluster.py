"""A distributed deployment in subprocesses, started as the README says: `tuneforge serve`,
`tuneforge scheduler`, `tuneforge worker`; plus a private Redis server and a private PostgreSQL
cluster for the faults of the services."""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
from pathlib import Path

import httpx

from tuneforge.db.store import JobStore
from tuneforge.worker.supervise import children
from tests.conftest import SPACES_DIR, free_port, wait_for


def group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
        return True
    except ProcessLookupError:
        return False


class PrivateRedis:
    """A redis-server of this test's own on a free port, so restarting it disturbs nobody."""

    def __init__(self, workdir: Path) -> None:
        self.port = free_port()
        self.workdir = workdir
        self.proc: subprocess.Popen | None = None
        self.url = f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.proc = subprocess.Popen(["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
                                      "--appendonly", "no", "--dir", str(self.workdir)],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        wait_for(lambda: _port_open(self.port), 10, "the private redis-server")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)


class PrivatePostgres:
    """A PostgreSQL cluster of this test's own (initdb into a temporary folder, a free port), so
    restarting it disturbs nobody. PostgreSQL refuses to run as root: as root, it runs as postgres."""

    def __init__(self) -> None:
        found = sorted(Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"))
        self.bin = found[-1].parent if found else None
        self.port = free_port()
        self.url = f"postgresql://postgres@127.0.0.1:{self.port}/postgres"
        self.home = Path(tempfile.mkdtemp(prefix="tuneforge-pg-"))
        self.data = self.home / "data"

    def _run(self, tool: str, *args: str) -> None:
        command = [str(self.bin / tool), *args]
        if os.geteuid() == 0:
            command = ["runuser", "-u", "postgres", "--", *command]
        subprocess.run(command, check=True, capture_output=True, timeout=120)

    def init(self) -> None:
        if os.geteuid() == 0:
            shutil.chown(self.home, "postgres", "postgres")
        self._run("initdb", "-D", str(self.data), "-U", "postgres", "--auth=trust", "--no-sync")

    def start(self) -> None:
        options = f"-p {self.port} -k {self.home} -c listen_addresses=127.0.0.1 -c fsync=off"
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.home / "server.log"), "-o", options, "-w", "start")

    def stop(self) -> None:
        """A fast shutdown: every client connection is cut, as when the server restarts."""
        if (self.data / "postmaster.pid").exists():
            self._run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "stop")

    def remove(self) -> None:
        self.stop()
        shutil.rmtree(self.home, ignore_errors=True)


def _port_open(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


class Cluster:
    def __init__(self, tmp_path: Path, database_url: str, broker_url: str, **env: str) -> None:
        self.tmp_path = tmp_path
        self.database_url = database_url
        self.store = JobStore(database_url)
        self.env = {**os.environ, "TUNEFORGE_DATABASE_URL": database_url, "TUNEFORGE_BROKER_URL": broker_url,
                    "TUNEFORGE_SPACES_DIR": str(SPACES_DIR), "TUNEFORGE_VISIBILITY_TIMEOUT_S": "5",
                    "TUNEFORGE_LEASE_S": "3", "TUNEFORGE_REPLAY_SLEEP_SCALE": "0.05",
                    "TUNEFORGE_EVAL_TIMEOUT_S": "20", "TUNEFORGE_WORKER_HEARTBEAT_S": "1", **env}
        self.procs: dict[str, subprocess.Popen] = {}
        self.url = ""

    def start(self, name: str, *args: str) -> subprocess.Popen:
        log = open(self.tmp_path / f"{name}.log", "a")
        self.procs[name] = subprocess.Popen([sys.executable, "-m", "tuneforge", *args], env=self.env, stdout=log,
                                            stderr=subprocess.STDOUT, start_new_session=True)
        return self.procs[name]

    def serve(self) -> None:
        port = free_port()
        self.start("api", "serve", "--port", str(port))
        self.url = f"http://127.0.0.1:{port}"
        wait_for(lambda: self._healthy(), 60, "the API")

    def worker(self, name: str, concurrency: int = 2) -> None:
        proc = self.start(name, "worker", "--device", "sim", "--concurrency", str(concurrency))
        wait_for(lambda: any(w.name.startswith(f"sim-{proc.pid}@") for w in self.store.workers(within_s=3)),
                 60, f"{name} to report for work")

    def tasks_received(self, name: str) -> list[str]:
        """Ids of the tasks worker ``name`` took, in order, as often as each was delivered."""
        return re.findall(r"Task tuneforge\.\w+\[([0-9a-f-]+)\] received", self.log(name))

    def celery_worker(self, name: str) -> tuple[int, list[int]] | None:
        """The Celery worker process under ``tuneforge worker``'s supervisor and its pool processes,
        once the pool is up; None before."""
        below = children(self.procs[name].pid)
        pool = children(below[0]) if below else []
        return (below[0], pool) if pool else None

    def kill(self, name: str, sig: int = signal.SIGKILL) -> subprocess.Popen:
        proc = self.procs[name]
        os.killpg(proc.pid, sig)
        proc.wait(30)
        return proc

    def submit(self, key: str | None = None, **request) -> str:
        response = httpx.post(f"{self.url}/api/v1/jobs", json={"device": "replay:gemm_RTX_3090", **request},
                              headers={"Authorization": f"Bearer {key}"} if key else {},
                              timeout=60)  # the first submit loads the device registry
        assert response.status_code == 201, response.text
        return response.json()["id"]

    def finished(self, job_id: str, timeout: float = 120) -> dict:
        return wait_for(lambda: (j := self.store.get_job(job_id)).status in ("succeeded", "failed", "cancelled")
                        and j, timeout, f"job {job_id} to finish")

    def log(self, name: str) -> str:
        return (self.tmp_path / f"{name}.log").read_text()

    def stop(self) -> None:
        for proc in self.procs.values():
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
        for proc in self.procs.values():
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
        for proc in self.procs.values():  # children of a process that exited
            if group_alive(proc.pid):
                os.killpg(proc.pid, signal.SIGKILL)

    def _healthy(self) -> bool:
        try:
            return httpx.get(f"{self.url}/healthz").status_code == 200
        except httpx.TransportError:
            return False


def assert_each_trial_once(store: JobStore, job_id: str, budget: int) -> list[dict]:
    job = store.get_job(job_id)
    assert job.status == "succeeded", job.error
    trials = store.trials(job_id)
    assert [t.number for t in trials] == list(range(budget)), "a trial is missing or stored twice"
    assert job.n_trials == budget
    assert len({tuple(sorted(t.params.items())) for t in trials}) == budget, "a config was evaluated twice"
    return trials
