"""``tuneforge worker``: a Celery worker in a child process, started again when it dies.

Celery's worker can exit with an "Unrecoverable error" when the broker drops its connection while
it restores unacknowledged messages (kombu raises on the closed channel); a worker that stays
down would leave its queue unserved after a Redis restart. The parent restarts it and passes
SIGTERM/SIGINT on, so stopping the parent stops everything under it.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import signal
import time
from pathlib import Path

from tuneforge.core.settings import Settings

log = logging.getLogger(__name__)
RESTART_PAUSE_S = 1.0


class _ExitOnUnrecoverable(logging.Handler):
    """After "Unrecoverable error" Celery's worker tries a clean stop, which can hang on the broken
    broker channel; leave at once instead (pool processes first) so the parent starts a fresh one."""

    def __init__(self) -> None:
        super().__init__(level=logging.CRITICAL)

    def emit(self, record: logging.LogRecord) -> None:
        if "Unrecoverable error" not in str(record.msg):
            return
        for pid in children(os.getpid()):
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        os._exit(70)


def children(pid: int) -> list[int]:
    """The processes whose parent is ``pid`` (Linux /proc)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            if int(stat.read_text().rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(stat.parent.name))
        except (OSError, ValueError, IndexError):
            continue
    return found


def _run_worker(settings: Settings, queues: list[str], node: str, argv: list[str]) -> None:
    from tuneforge.db.session import forget_inherited_connections
    from tuneforge.worker.celery_app import app_for
    from tuneforge.worker.signals import connect_worker_signals

    forget_inherited_connections()
    from celery.signals import after_setup_logger

    # Added once Celery has set up its logging (it replaces the root logger's handlers).
    after_setup_logger.connect(lambda logger=None, **_: logging.getLogger().addHandler(_ExitOnUnrecoverable()),
                               weak=False)
    connect_worker_signals(settings, queues)
    app_for(settings).worker_main(["worker", f"--queues={','.join(queues)}", f"--hostname={node}", *argv])


def supervise_worker(settings: Settings, queues: list[str], node: str, argv: list[str]) -> int:
    """Run the worker until it exits cleanly or this process is told to stop; returns its exit code."""
    context = multiprocessing.get_context("fork")  # the child inherits the imported app and settings
    stopping = False
    child: multiprocessing.process.BaseProcess | None = None

    def forward(signum, _frame) -> None:
        nonlocal stopping
        stopping = True
        if child is not None and child.pid is not None:
            try:
                os.kill(child.pid, signum)
            except ProcessLookupError:
                pass

    signal.signal(signal.SIGTERM, forward)
    signal.signal(signal.SIGINT, forward)
    while True:
        child = context.Process(target=_run_worker, args=(settings, queues, node, argv), name="celery-worker")
        child.start()
        child.join()
        if stopping or child.exitcode == 0:
            return child.exitcode or 0
        log.warning("worker %s exited with %s; starting it again", node, child.exitcode)
        time.sleep(RESTART_PAUSE_S)
