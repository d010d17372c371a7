"""Worker processes that compile and run candidates.

Each worker is a long-lived ``python -m tuneforge.evaluators.verify.worker`` (importing torch and
triton once costs seconds); a worker that dies, or overruns a request's time limit where the caller
gives one, is killed and replaced, so a hanging or crashing candidate costs one worker, never the
caller. A job's evaluations give none: the evaluation's own process is killed at the job's limit
(the local pool, or the Celery worker) and its verify worker dies with it.
"""

from __future__ import annotations

import atexit
import json
import os
import queue
import selectors
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from tuneforge.core.processes import die_with_parent
from tuneforge.core.settings import REPO_ROOT
from tuneforge.core.types import TrialStatus
from tuneforge.evaluators.verify.plan import Verdict, VerifyRequest

STARTUP_TIMEOUT_S = 300.0


class WorkerDied(Exception):
    pass


class WorkerTimedOut(Exception):
    pass


class Worker:
    def __init__(self, device: str) -> None:
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO_ROOT), env.get("PYTHONPATH")) if p)
        if device == "cpu":
            env["TRITON_INTERPRET"] = "1"  # must be set before triton is imported
        else:
            env.pop("TRITON_INTERPRET", None)
        self._stderr = tempfile.NamedTemporaryFile(prefix="tuneforge-worker-", suffix=".log", delete=False)
        self.proc = subprocess.Popen([sys.executable, "-m", "tuneforge.evaluators.verify.worker"], cwd=REPO_ROOT, env=env,
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self._stderr,
                                     preexec_fn=die_with_parent)
        self._buffer = b""
        try:
            self._read_line(STARTUP_TIMEOUT_S)
        except (WorkerDied, WorkerTimedOut):
            self.kill()
            raise

    def ask(self, payload: dict, timeout_s: float | None) -> dict:
        assert self.proc.stdin is not None
        try:
            self.proc.stdin.write((json.dumps(payload) + "\n").encode())
            self.proc.stdin.flush()
        except BrokenPipeError as exc:
            raise WorkerDied(self.log_tail()) from exc
        return json.loads(self._read_line(timeout_s))

    def _read_line(self, timeout_s: float | None) -> bytes:
        """The next line the worker writes; None: wait as long as it takes."""
        assert self.proc.stdout is not None
        deadline = None if timeout_s is None else time.monotonic() + timeout_s
        with selectors.DefaultSelector() as sel:
            sel.register(self.proc.stdout, selectors.EVENT_READ)
            while b"\n" not in self._buffer:
                left = None if deadline is None else deadline - time.monotonic()
                if left is not None and left <= 0:
                    raise WorkerTimedOut()
                if not sel.select(left):
                    continue
                chunk = os.read(self.proc.stdout.fileno(), 1 << 16)
                if not chunk:
                    raise WorkerDied(self.log_tail())
                self._buffer += chunk
        line, _, self._buffer = self._buffer.partition(b"\n")
        return line

    def log_tail(self, chars: int = 3000) -> str:
        try:  # its stdout closes a moment before its exit status can be read
            self.proc.wait(timeout=2)
        except subprocess.TimeoutExpired:
            pass
        try:
            text = Path(self._stderr.name).read_text(errors="replace")[-chars:]
        except OSError:
            text = ""
        code = self.proc.returncode
        return (f"worker exited with code {code}\n" if code is not None else "") + text

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()
        self._stderr.close()
        Path(self._stderr.name).unlink(missing_ok=True)


class WorkerPool:
    """``size`` workers for one device kind; ``run`` blocks until one is free."""

    def __init__(self, device: str, size: int = 1) -> None:
        self.device = device
        self._idle: queue.Queue[Worker | None] = queue.Queue()
        self._live: set[Worker] = set()
        for _ in range(size):
            self._idle.put(None)  # started on first use
        atexit.register(self.close)

    def run(self, request: VerifyRequest, timeout_s: float | None = None) -> Verdict:
        worker = self._idle.get()
        try:
            if worker is None:
                worker = Worker(self.device)
                self._live.add(worker)
            verdict = Verdict.from_dict(worker.ask(request.to_dict(), timeout_s))
        except WorkerTimedOut:
            worker = self._discard(worker)  # a worker that never started was killed by its constructor
            return Verdict.fail(TrialStatus.TIMEOUT, "timeout", f"no answer within {timeout_s:.0f} s; worker killed")
        except (WorkerDied, OSError, ValueError) as exc:
            log = worker.log_tail() if worker is not None else str(exc)
            worker = self._discard(worker)
            return Verdict.fail(TrialStatus.CRASHED, "worker-died", f"the worker process died: {log}")
        finally:
            self._idle.put(worker)
        return verdict

    def _discard(self, worker: Worker | None) -> None:
        """Kill a worker that failed; its slot restarts one on next use."""
        if worker is not None:
            self._live.discard(worker)
            worker.kill()
        return None

    def close(self) -> None:
        for worker in list(self._live):
            worker.kill()
        self._live.clear()
