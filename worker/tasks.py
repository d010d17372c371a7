"""Celery tasks: thin shims over the evaluation functions that push their result to the waiting loop.

In distributed mode the worker owns the evaluation timeout: each task is sent with a hard time limit
of the job's ``eval_timeout_s``, the prefork pool kills the process of an evaluation that overruns
it, and the worker's main process reports ``timeout`` to the loop (``on_failure`` below). The
timed-out task is acknowledged, never run again.
"""

from __future__ import annotations

from typing import Any

from billiard.exceptions import TimeLimitExceeded
from celery import Task, shared_task

from tuneforge.core.settings import get_settings
from tuneforge.core.types import TrialResult, TrialStatus
from tuneforge.evaluators.run import evaluate_baseline, evaluate_candidate
from tuneforge.worker.celery_runner import deliver


class _ReportsTimeout(Task):
    def timed_out(self, args: tuple, limit_s: float) -> dict[str, Any] | None:
        """What the loop receives when the evaluation was killed at its time limit."""
        raise NotImplementedError

    def on_failure(self, exc, task_id, args, kwargs, einfo) -> None:
        if isinstance(exc, TimeLimitExceeded):  # its process is gone: answer for it
            *_, reply_to, key = args
            deliver(get_settings().broker_url, reply_to, key, self.timed_out(args, float(exc.args[0])))


class _Evaluation(_ReportsTimeout):
    def timed_out(self, args, limit_s):
        return TrialResult.failure(TrialStatus.TIMEOUT, f"the evaluation overran its time limit of {limit_s:g} s "
                                   "(eval_timeout_s); its process was killed", device_name=args[0]).to_dict()


class _Baseline(_ReportsTimeout):
    def timed_out(self, args, limit_s):
        return None  # the job runs without a baseline


@shared_task(name="tuneforge.evaluate", ignore_result=True, base=_Evaluation)
def evaluate(device: str, target: str | dict, problem: dict, candidate: dict, settings: dict, reply_to: str,
             key: int) -> None:
    deliver(get_settings().broker_url, reply_to, key, evaluate_candidate(device, target, problem, candidate, settings))


@shared_task(name="tuneforge.baseline", ignore_result=True, base=_Baseline)
def baseline(device: str, target: str | dict, problem: dict, settings: dict, reply_to: str, key: int) -> None:
    deliver(get_settings().broker_url, reply_to, key, evaluate_baseline(device, target, problem, settings))
