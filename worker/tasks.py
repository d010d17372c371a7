"""Celery tasks: thin shims over plain functions."""

from __future__ import annotations

from celery import shared_task

from tuneforge.evaluators.run import evaluate_baseline, evaluate_candidate
from tuneforge.worker.jobs import run_job_distributed


@shared_task(name="tuneforge.run_job")
def run_job(job_id: str) -> str | None:
    return run_job_distributed(job_id)


@shared_task(name="tuneforge.evaluate")
def evaluate(device: str, target: str, problem: dict, candidate: dict) -> dict:
    return evaluate_candidate(device, target, problem, candidate)


@shared_task(name="tuneforge.baseline")
def baseline(device: str, target: str, problem: dict) -> dict | None:
    return evaluate_baseline(device, target, problem)
