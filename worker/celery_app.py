"""The Celery app (distributed mode). Importing it never imports torch or triton."""

from __future__ import annotations

from functools import lru_cache

from celery import Celery

from tuneforge.core.settings import Settings

JOB_QUEUE = "jobs"
DEVICE_QUEUES = ("cuda", "cpu", "sim")


def eval_queue(kind: str) -> str:
    return f"eval.{kind}"


def make_celery(settings: Settings) -> Celery:
    if not settings.broker_url:
        raise RuntimeError("distributed mode needs TUNEFORGE_BROKER_URL (e.g. redis://127.0.0.1:6379/0)")
    app = Celery("tuneforge", broker=settings.broker_url,
                 backend=settings.result_backend or settings.broker_url, include=["tuneforge.worker.tasks"])
    # kombu sweeps for a dead worker's unacknowledged tasks every interval x throttle seconds
    # (100 s by default); sweep often enough that redelivery follows the visibility timeout.
    transport = {"visibility_timeout": settings.visibility_timeout_s,
                 "unacked_restore_interval": max(1, min(10, settings.visibility_timeout_s // 3)),
                 "unacked_restore_throttle": 1}
    app.conf.update(
        task_acks_late=True,  # a task is acknowledged after it ran, so a dead worker's task comes back
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,  # a worker holds no task it is not running
        task_serializer="json", result_serializer="json", accept_content=["json"],
        broker_transport_options=transport, result_backend_transport_options=transport,
        task_default_queue=JOB_QUEUE, task_routes={"tuneforge.run_job": {"queue": JOB_QUEUE}},
        result_expires=24 * 3600, broker_connection_retry_on_startup=True,
        worker_cancel_long_running_tasks_on_connection_loss=True,
    )
    return app


@lru_cache(maxsize=4)
def celery_for(broker_url: str, result_backend: str | None, visibility_timeout_s: int) -> Celery:
    return make_celery(Settings(broker_url=broker_url, result_backend=result_backend,
                                visibility_timeout_s=visibility_timeout_s))


def app_for(settings: Settings) -> Celery:
    return celery_for(settings.broker_url or "", settings.result_backend, settings.visibility_timeout_s)
