"""Celery tasks: thin shims over the evaluation functions that push their result to the waiting loop."""

from __future__ import annotations

from celery import shared_task

from tuneforge.core.settings import get_settings
from tuneforge.evaluators.run import evaluate_baseline, evaluate_candidate
from tuneforge.worker.celery_runner import deliver


@shared_task(name="tuneforge.evaluate", ignore_result=True)
def evaluate(device: str, target: str | dict, problem: dict, candidate: dict, settings: dict, reply_to: str,
             key: int) -> None:
    deliver(get_settings().broker_url, reply_to, key, evaluate_candidate(device, target, problem, candidate, settings))


@shared_task(name="tuneforge.baseline", ignore_result=True)
def baseline(device: str, target: str | dict, problem: dict, settings: dict, reply_to: str, key: int) -> None:
    deliver(get_settings().broker_url, reply_to, key, evaluate_baseline(device, target, problem, settings))
