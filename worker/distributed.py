"""Distributed mode: evaluations go to Celery queues, one per device kind."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

from celery import Celery

from core.settings import Settings
from core.types import TrialResult, TrialStatus
from evaluators.registry import resolve_device
from worker.celery_app import eval_queue

POLL_S = 0.002


class CeleryEvaluator:
    def __init__(self, app: Celery, settings: Settings) -> None:
        self.app = app
        self.settings = settings
        # A task on a worker that died comes back after the visibility timeout; wait that long first.
        self.deadline_s = settings.visibility_timeout_s + 2 * settings.eval_timeout_s + 30

    def _queue(self, device: str) -> str:
        return eval_queue(resolve_device(device, self.settings).queue)

    def evaluate(self, device: str, target: str, problem: dict[str, Any],
                 candidates: list[dict[str, Any]]) -> Iterator[tuple[int, dict[str, Any]]]:
        queue = self._queue(device)
        pending = {i: self.app.send_task("tuneforge.evaluate", args=[device, target, problem, c], queue=queue)
                   for i, c in enumerate(candidates)}
        started = time.monotonic()
        while pending:
            for i, result in list(pending.items()):
                if not result.ready():
                    continue
                del pending[i]
                if result.successful():
                    yield i, result.get(disable_sync_subtasks=False)
                else:
                    yield i, TrialResult.failure(TrialStatus.CRASHED, f"evaluation task failed: {result.result!r}",
                                                 device_name=device).to_dict()
                result.forget()
            if pending and time.monotonic() - started > self.deadline_s:
                for i, result in pending.items():
                    result.revoke()
                    yield i, TrialResult.failure(TrialStatus.TIMEOUT, f"no worker on queue {queue} returned a "
                                                 f"result within {self.deadline_s:g} s", device_name=device).to_dict()
                return
            time.sleep(POLL_S)

    def baseline(self, device: str, target: str, problem: dict[str, Any]) -> dict[str, Any] | None:
        result = self.app.send_task("tuneforge.baseline", args=[device, target, problem], queue=self._queue(device))
        return result.get(timeout=self.deadline_s, disable_sync_subtasks=False)
