"""Fixtures shared by every test package: settings on a fresh SQLite file, and the real
PostgreSQL and Redis services for the distributed path."""

from __future__ import annotations

import os
import random
import shutil
import socket
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tuneforge.core.settings import REPO_ROOT, Settings

# TestClient sends Host: testserver; the API answers only trusted Host headers.
os.environ.setdefault("TUNEFORGE_TRUSTED_HOSTS", '["localhost", "127.0.0.1", "[::1]", "testserver"]')
SPACES_DIR = REPO_ROOT.parent / "shared" / "data" / "tuning-spaces"
PG_ADMIN_URL = os.environ.get("TUNEFORGE_TEST_PG", "postgresql://postgres@127.0.0.1:5432/test")
REDIS_HOST, REDIS_PORT = "127.0.0.1", 6379
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")

# Tests never touch the user's data or cache directories (the default database, verdict caches,
# trained models): platformdirs follows XDG_*, and subprocesses inherit the variables.
_TEST_HOME = Path(tempfile.mkdtemp(prefix="tuneforge-test-home-"))
os.environ["XDG_DATA_HOME"] = str(_TEST_HOME / "data")
os.environ["XDG_CACHE_HOME"] = str(_TEST_HOME / "cache")


def pytest_unconfigure(config) -> None:
    shutil.rmtree(_TEST_HOME, ignore_errors=True)


def unavailable(reason: str) -> None:
    """A service or tool a test needs is missing: skip on a developer's machine, fail in CI (CI=true),
    where a skipped test would let the run go green without testing anything."""
    if IN_CI:
        pytest.fail(f"{reason}; CI must provide it", pytrace=False)
    pytest.skip(reason)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(database_url=f"sqlite:///{tmp_path / 'tuneforge.db'}", broker_url=None,
                    spaces_dir=SPACES_DIR, embedded_workers=2)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def serve_in_thread(app, port: int, name: str) -> Iterator[str]:
    """The ASGI ``app`` served by uvicorn on 127.0.0.1:``port`` in a daemon thread, for one block."""
    import uvicorn

    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, name=name, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the test server did not start")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def _port_open(host: str, port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(1)
        return sock.connect_ex((host, port)) == 0


@pytest.fixture
def postgres_url() -> str:
    """A fresh PostgreSQL database for one test, dropped afterwards."""
    if not _port_open("127.0.0.1", 5432):
        unavailable("PostgreSQL is not running on 127.0.0.1:5432 (.ci/run starts it)")
    from sqlalchemy import create_engine, text

    name = f"tuneforge_test_{uuid.uuid4().hex[:8]}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    yield PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    from tuneforge.db.session import _engines

    for url in [u for u in _engines if u.endswith(name)]:
        _engines.pop(url).dispose()
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture
def redis_url() -> str:
    """A Redis database number of its own, emptied afterwards."""
    if not _port_open(REDIS_HOST, REDIS_PORT):
        unavailable("Redis is not running on 127.0.0.1:6379 (.ci/run starts it)")
    import redis

    # An empty database number, so the tests never wipe queues that someone else is using. The claim
    # key makes taking it atomic when several test processes look at once (pytest -n).
    for index in random.sample(range(1, 16), 15):
        client = redis.Redis(REDIS_HOST, REDIS_PORT, db=index)
        if client.set("tuneforge-test:claim", uuid.uuid4().hex, nx=True):
            if client.dbsize() == 1:
                break
            client.delete("tuneforge-test:claim")
    else:
        unavailable("every Redis database 1-15 on 127.0.0.1:6379 holds keys; free one for the tests")
    yield f"redis://{REDIS_HOST}:{REDIS_PORT}/{index}"
    client.flushdb()


def wait_for(predicate, timeout: float, what: str, *, every: float = 0.1):
    """The first truthy value of ``predicate()``, asked every ``every`` seconds for up to ``timeout``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(every)
    raise AssertionError(f"timed out after {timeout:g} s waiting for {what}")


def finished_job(client, job_id: str, timeout: float = 120) -> dict:
    """The job as ``GET /api/v1/jobs/{id}`` shows it once it has ended."""
    return wait_for(lambda: (job := client.get(f"/api/v1/jobs/{job_id}").json())["status"]
                    in ("succeeded", "failed", "cancelled") and job, timeout, f"job {job_id} to finish")
