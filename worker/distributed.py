"""Distributed mode: evaluations go to Celery queues, one per device kind."""

from __future__ import annotations

import time
from typing import Any

from celery import Celery
from celery.result import AsyncResult

from tuneforge.core.settings import Settings
from tuneforge.core.types import TrialResult, TrialStatus
from tuneforge.evaluators.registry import resolve_device
from tuneforge.worker.celery_app import eval_queue

POLL_S = 0.002


class CeleryEvaluator:
    def __init__(self, app: Celery, settings: Settings) -> None:
        self.app = app
        self.settings = settings
        # A task on a worker that died comes back after the visibility timeout; wait that long first.
        self.deadline_s = settings.visibility_timeout_s + 2 * settings.eval_timeout_s + 30

    def queue(self, device: str) -> str:
        return eval_queue(resolve_device(device, self.settings).queue)

    def session(self, device: str, target: str, problem: dict[str, Any]) -> CelerySession:
        return CelerySession(self, device, target, problem)

    def baseline(self, device: str, target: str, problem: dict[str, Any]) -> dict[str, Any] | None:
        result = self.app.send_task("tuneforge.baseline", args=[device, target, problem], queue=self.queue(device))
        return result.get(timeout=self.deadline_s, disable_sync_subtasks=False)


class CelerySession:
    """Candidates of one job in flight on the workers; results come back as each finishes."""

    def __init__(self, evaluator: CeleryEvaluator, device: str, target: str, problem: dict[str, Any]) -> None:
        self.evaluator = evaluator
        self.device, self.target, self.problem = device, target, problem
        self.queue = evaluator.queue(device)
        self.running: dict[int, tuple[AsyncResult, float]] = {}

    @property
    def in_flight(self) -> int:
        return len(self.running)

    def submit(self, key: int, candidate: dict[str, Any]) -> None:
        task = self.evaluator.app.send_task("tuneforge.evaluate",
                                            args=[self.device, self.target, self.problem, candidate],
                                            queue=self.queue)
        self.running[key] = (task, time.monotonic())

    def wait(self) -> list[tuple[int, dict[str, Any]]]:
        """Block until at least one candidate has a result; return every finished one."""
        while self.running:
            finished = [self._collect(key) for key, (task, sent) in list(self.running.items())
                        if task.ready() or time.monotonic() - sent > self.evaluator.deadline_s]
            if finished:
                return finished
            time.sleep(POLL_S)
        return []

    def _collect(self, key: int) -> tuple[int, dict[str, Any]]:
        task, _ = self.running.pop(key)
        if not task.ready():
            task.revoke()
            return key, self._failure(TrialStatus.TIMEOUT, f"no worker on queue {self.queue} returned a result "
                                                           f"within {self.evaluator.deadline_s:g} s")
        if task.successful():
            result = task.get(disable_sync_subtasks=False)
        else:
            result = self._failure(TrialStatus.CRASHED, f"evaluation task failed: {task.result!r}")
        task.forget()
        return key, result

    def _failure(self, status: TrialStatus, log: str) -> dict[str, Any]:
        return TrialResult.failure(status, log, device_name=self.device).to_dict()
