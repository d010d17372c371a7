"""Embedded mode's runner: the evaluation functions in a local process pool.

This pool is the one place that enforces the evaluation timeout in embedded mode: a candidate
that overruns it is reported ``timeout`` and its process is killed with the pool.
"""

from __future__ import annotations

import multiprocessing
import time
from collections import deque
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from typing import Any

from tuneforge.core.processes import die_with_parent
from tuneforge.core.settings import Settings
from tuneforge.core.types import TrialResult, TrialStatus
from tuneforge.evaluators.run import evaluate_baseline, evaluate_candidate
from tuneforge.search.runner import evaluation_settings
from tuneforge.evaluators.registry import TargetRef

class LocalPoolRunner:
    """Evaluates candidates in ``settings.embedded_workers`` spawned processes."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.settings_dict = evaluation_settings(settings)
        self._pool: ProcessPoolExecutor | None = None

    def executor(self) -> ProcessPoolExecutor:
        if self._pool is None:
            self._pool = ProcessPoolExecutor(self.settings.embedded_workers,
                                             mp_context=multiprocessing.get_context("spawn"),
                                             initializer=die_with_parent)
        return self._pool

    def discard_pool(self) -> None:
        if self._pool is not None:
            for process in list(getattr(self._pool, "_processes", {}).values()):
                process.kill()
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = None

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None

    def session(self, job_id: str, device: str, target: TargetRef, problem: dict[str, Any]) -> LocalSession:
        return LocalSession(self, device, target, problem)

    def baseline(self, job_id: str, device: str, target: TargetRef, problem: dict[str, Any]) -> dict[str, Any] | None:
        return self.executor().submit(evaluate_baseline, device, target, problem, self.settings_dict).result(
            timeout=self.settings.eval_timeout_s)


class LocalSession:
    """Candidates of one job in flight in the pool; results come back as each finishes.

    A candidate that kills its process breaks the whole pool, and the pool cannot tell which
    one did: the unfinished candidates are then run again one at a time in a fresh pool, so
    only the culprit is reported ``crashed``. One that overruns the time limit is ``timeout``.
    """

    def __init__(self, evaluator: LocalPoolRunner, device: str, target: TargetRef, problem: dict[str, Any]) -> None:
        self.evaluator = evaluator
        self.args = (device, target, problem)
        self.running: dict[Future, tuple[int, dict[str, Any]]] = {}
        self.suspects: deque[tuple[int, dict[str, Any]]] = deque()  # to rerun alone after a pool break
        self.progress_at = time.monotonic()  # the last time a result came back or the pool was idle

    @property
    def in_flight(self) -> int:
        return len(self.running) + len(self.suspects)

    def submit(self, key: int, candidate: dict[str, Any]) -> None:
        if self.suspects:
            self.suspects.append((key, candidate))
        else:
            self._start(key, candidate)

    def close(self) -> None:
        if self.in_flight:  # nobody will read these results: stop the processes computing them
            self.running.clear()
            self.suspects.clear()
            self.evaluator.discard_pool()

    def _start(self, key: int, candidate: dict[str, Any]) -> None:
        if not self.running:
            self.progress_at = time.monotonic()
        future = self.evaluator.executor().submit(evaluate_candidate, *self.args, candidate,
                                                  self.evaluator.settings_dict)
        self.running[future] = (key, candidate)

    def wait(self, timeout: float) -> list[tuple[int, dict[str, Any]]]:
        """Block up to ``timeout`` seconds for results; return every finished one."""
        finished: list[tuple[int, dict[str, Any]]] = []
        until = time.monotonic() + timeout
        limit = self.evaluator.settings.eval_timeout_s
        while not finished and self.in_flight:
            if not self.running:
                self._start(*self.suspects.popleft())
            overrun_at = self.progress_at + limit
            done, _ = wait(self.running, timeout=max(0.0, min(until, overrun_at) - time.monotonic()),
                           return_when=FIRST_COMPLETED)
            if not done and time.monotonic() < overrun_at:
                break  # the caller's turn: nothing finished yet
            if not done:  # nothing finished within the limit: everything running overran
                finished += [(key, _failure(TrialStatus.TIMEOUT, self.args[0], f"no result within {limit:g} s"))
                             for key, _ in self.running.values()]
                self.running.clear()
                self.evaluator.discard_pool()
                continue
            self.progress_at = time.monotonic()
            broken = []
            for future in done:
                key, candidate = self.running.pop(future)
                try:
                    finished.append((key, future.result()))
                except BrokenProcessPool:
                    broken.append((key, candidate))
                except Exception as exc:  # noqa: BLE001 - any failure is a result, never lost
                    finished.append((key, _failure(TrialStatus.CRASHED, self.args[0], repr(exc))))
            if broken:
                finished += self._after_break(broken)
        return finished

    def _after_break(self, broken: list[tuple[int, dict[str, Any]]]) -> list[tuple[int, dict[str, Any]]]:
        alone = not self.running and not self.suspects and len(broken) == 1
        self.evaluator.discard_pool()
        if alone:  # it ran by itself, so it is the culprit
            return [(broken[0][0], _failure(TrialStatus.CRASHED, self.args[0], "the evaluation process died"))]
        # The pool is gone: whatever else was running is lost with it and reruns alone too.
        self.suspects.extend([*broken, *self.running.values()])
        self.running.clear()
        return []


def _failure(status: TrialStatus, device: str, log: str) -> dict[str, Any]:
    return TrialResult.failure(status, log, device_name=device).to_dict()
