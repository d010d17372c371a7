"""One process layer owns the evaluation timeout: the process running an evaluation is killed at the
job's limit (here the embedded pool's), and what it started (the sandbox, a verify worker) dies with
it instead of running on by itself. Real processes: a candidate that never returns, a parent SIGKILLed."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from tuneforge.core.settings import Settings
from tuneforge.core.types import Candidate, TrialStatus
from tuneforge.kernels.registry import get_target
from tuneforge.worker.local_pool import LocalPoolRunner
from tuneforge.worker.supervise import children
from tests.agents.tricks import TRICKS
from tests.conftest import wait_for

LIMIT_S = 20.0
SOFTMAX_CONFIG = {"BLOCK_N": 256, "num_warps": 4, "num_stages": 2}


def _descendants(pid: int) -> set[int]:
    found = set(children(pid))
    for child in list(found):
        found |= _descendants(child)
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"


def test_a_candidate_that_never_returns_is_timed_out_by_the_pool_and_its_sandbox_dies_with_it(tmp_path) -> None:
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'jobs.db'}", broker_url=None, embedded_workers=1,
                        eval_timeout_s=LIMIT_S)
    trick = next(t for t in TRICKS if t.rule == "timeout")  # an infinite loop in the kernel's launcher
    assert trick.target == "softmax"
    target = get_target(trick.target)
    runner = LocalPoolRunner(settings)
    session = runner.session("job", "cpu", trick.target, target.parse_problem({"rows": 8, "N": 256}, dtype="fp32").to_dict())
    started = time.monotonic()
    session.submit(0, Candidate(SOFTMAX_CONFIG, source=trick.source, origin="agent").to_dict())
    below_pool: set[int] = set()
    results: list = []
    try:
        while not results and time.monotonic() - started < LIMIT_S + 60:
            for process in list(getattr(runner.executor(), "_processes", {}).values()):
                below_pool |= _descendants(process.pid)
            results = session.wait(0.5)
    finally:
        runner.close()
    elapsed = time.monotonic() - started
    assert [key for key, _ in results] == [0]
    result = results[0][1]
    assert result["status"] == TrialStatus.TIMEOUT.value, result
    # The job's limit is what fired, not a shorter one below it.
    assert elapsed >= LIMIT_S, elapsed
    assert f"{LIMIT_S:g} s" in result["log"]
    assert below_pool, "the candidate's sandbox never started below the pool's process"
    wait_for(lambda: not any(_alive(p) for p in below_pool), 10, "the processes the evaluation started to end")


def test_a_verify_worker_dies_with_the_process_that_started_it() -> None:
    code = ("import time\nfrom tuneforge.evaluators.verify.pool import Worker\n"
            "worker = Worker('cpu')\nprint(worker.proc.pid, flush=True)\ntime.sleep(600)\n")
    parent = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    try:
        worker_pid = int(parent.stdout.readline())
        assert _alive(worker_pid)
        # Busy in a kernel that never returns, it would not notice its stdin close: stopped, neither does it.
        os.kill(worker_pid, signal.SIGSTOP)
    finally:
        os.kill(parent.pid, signal.SIGKILL)
        parent.wait()
    try:
        wait_for(lambda: not _alive(worker_pid), 10, "the verify worker to die with its SIGKILLed parent")
    finally:
        if _alive(worker_pid):
            os.kill(worker_pid, signal.SIGKILL)
