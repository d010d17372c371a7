"""Distributed mode's runner: candidates go to a device's Celery queue; each evaluation task pushes
its result onto a Redis list of the job's, where the loop blocks on it (no polling, no result
backend, no task waiting on a task).

A delivery is keyed by the loop's submission key, so a task that runs twice (redelivered after
its worker died) has its second result dropped. A task that never reports (its worker died and
the broker lost the message, e.g. Redis restarted empty) is sent again when the broker's identity
changes, and reported ``timeout`` after the redelivery window otherwise.
"""

from __future__ import annotations

import json
import logging
import time
import uuid
from functools import lru_cache
from typing import Any

import redis
from celery import Celery

from tuneforge.core.settings import Settings
from tuneforge.core.types import TrialResult, TrialStatus
from tuneforge.evaluators.registry import resolve_device
from tuneforge.search.runner import evaluation_settings
from tuneforge.worker.celery_app import app_for, eval_queue
from tuneforge.evaluators.registry import TargetRef

log = logging.getLogger(__name__)
REPLY_TTL_S = 24 * 3600  # results nobody collects (a cancelled job's) expire
# While the broker is away (a restart), sending waits for it up to about two minutes.
SEND_RETRY = {"max_retries": 120, "interval_start": 0.2, "interval_step": 0.2, "interval_max": 1.0}


@lru_cache(maxsize=4)
def redis_for(url: str) -> redis.Redis:
    return redis.Redis.from_url(url, health_check_interval=30)


def deliver(broker_url: str, reply_to: str, key: int | str, result: dict[str, Any] | None) -> None:
    """The evaluation task's last step: hand the result to the loop waiting on ``reply_to``."""
    client = redis_for(broker_url)
    with client.pipeline(transaction=False) as pipe:
        pipe.rpush(reply_to, json.dumps({"key": key, "result": result}))
        pipe.expire(reply_to, REPLY_TTL_S)
        pipe.execute()


class CeleryRunner:
    def __init__(self, settings: Settings, app: Celery | None = None) -> None:
        if not settings.broker_url:
            raise ValueError("the Celery runner needs settings.broker_url")
        self.settings = settings
        self.app = app or app_for(settings)
        self.redis = redis_for(settings.broker_url)
        self.settings_dict = evaluation_settings(settings)
        # A task on a worker that died comes back after the visibility timeout; wait that long first.
        self.deadline_s = settings.visibility_timeout_s + 2 * settings.eval_timeout_s + 30

    def queue(self, device: str) -> str:
        return eval_queue(resolve_device(device, self.settings).queue)

    def session(self, job_id: str, device: str, target: TargetRef, problem: dict[str, Any]) -> CelerySession:
        return CelerySession(self, job_id, device, target, problem)

    def baseline(self, job_id: str, device: str, target: TargetRef, problem: dict[str, Any]) -> dict[str, Any] | None:
        session = self.session(job_id, device, target, problem)
        session.send(-1, "tuneforge.baseline", [device, target, problem])
        try:
            while True:
                for key, result in session.wait(1.0):
                    if key in session.lost:
                        raise TimeoutError(f"no worker on queue {session.queue} ran the baseline")
                    return result
        finally:
            session.close()

    def broker_identity(self) -> str | None:
        """Redis's run id: it changes when the server restarts (and forgets its queues)."""
        try:
            return self.redis.info("server")["run_id"]
        except redis.RedisError:
            return None

    def close(self) -> None:
        pass


class CelerySession:
    """One job's candidates on the workers; results arrive on the job's reply list."""

    def __init__(self, runner: CeleryRunner, job_id: str, device: str, target: TargetRef,
                 problem: dict[str, Any]) -> None:
        self.runner = runner
        self.args = [device, target, problem]
        self.queue = runner.queue(device)
        # One list per loop run: results meant for an earlier owner of the job are never read here.
        self.reply_to = f"tuneforge:results:{job_id}:{uuid.uuid4().hex[:8]}"
        self.sent: dict[int, tuple[str, list[Any], float]] = {}  # key -> (task, args, sent at)
        self.broker_id = runner.broker_identity()
        self.lost: set[int] = set()

    @property
    def in_flight(self) -> int:
        return len(self.sent)

    def submit(self, key: int, candidate: dict[str, Any]) -> None:
        self.send(key, "tuneforge.evaluate", [*self.args, candidate])

    def send(self, key: int, task: str, args: list[Any]) -> None:
        self.runner.app.send_task(task, args=[*args, self.runner.settings_dict, self.reply_to, key],
                                  queue=self.queue, ignore_result=True, retry=True, retry_policy=SEND_RETRY)
        self.sent[key] = (task, args, time.monotonic())

    def wait(self, timeout: float) -> list[tuple[int, dict[str, Any]]]:
        if not self.sent:
            return []
        try:
            reply = self.runner.redis.blpop([self.reply_to], timeout=max(0.01, timeout))
        except redis.RedisError:
            log.warning("broker unreachable while waiting for results; retrying", exc_info=True)
            time.sleep(min(timeout, 0.5))
            return self._after_silence()
        if reply is None:
            return self._after_silence()
        finished = [self._accept(reply[1])]
        # Whatever else has arrived meanwhile, without blocking again.
        while self.sent and (more := self.runner.redis.lpop(self.reply_to)) is not None:
            finished.append(self._accept(more))
        return [f for f in finished if f is not None]

    def _accept(self, raw: bytes) -> tuple[int, dict[str, Any]] | None:
        message = json.loads(raw)
        if self.sent.pop(message["key"], None) is None:
            return None  # a second delivery of a task that already reported
        return message["key"], message["result"]

    def _after_silence(self) -> list[tuple[int, dict[str, Any]]]:
        identity = self.runner.broker_identity()
        if identity is not None and self.broker_id is not None and identity != self.broker_id:
            log.warning("the broker restarted; sending %d unfinished evaluations again", len(self.sent))
            for key, (task, args, _) in list(self.sent.items()):
                self.send(key, task, args)
        if identity is not None:
            self.broker_id = identity
        now = time.monotonic()
        overdue = [key for key, (_, _, sent_at) in self.sent.items() if now - sent_at > self.runner.deadline_s]
        return [(key, self._lost(key)) for key in overdue]

    def _lost(self, key: int) -> dict[str, Any]:
        self.sent.pop(key)
        self.lost.add(key)
        return TrialResult.failure(TrialStatus.TIMEOUT, f"no worker on queue {self.queue} returned a result within "
                                   f"{self.runner.deadline_s:g} s", device_name=self.args[0]).to_dict()

    def close(self) -> None:
        self.sent.clear()
        try:
            self.runner.redis.delete(self.reply_to)
        except redis.RedisError:
            pass
