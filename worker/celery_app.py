"""The Celery app (distributed mode). Importing it never imports torch or triton."""

from __future__ import annotations

from functools import lru_cache

from celery import Celery

from tuneforge.core.settings import Settings

DEVICE_QUEUES = ("cuda", "cpu", "sim")


def eval_queue(kind: str) -> str:
    return f"eval.{kind}"


def make_celery(settings: Settings) -> Celery:
    if not settings.broker_url:
        raise RuntimeError("distributed mode needs TUNEFORGE_BROKER_URL (e.g. redis://127.0.0.1:6379/0)")
    # No result backend: evaluation tasks push their results to the loop that waits for them.
    app = Celery("tuneforge", broker=settings.broker_url, include=["tuneforge.worker.tasks"])
    # kombu sweeps for a dead worker's unacknowledged tasks every interval x throttle seconds
    # (100 s by default); sweep often enough that redelivery follows the visibility timeout. A
    # sweeping worker holds a lock in Redis; one killed mid-sweep leaves it held until it expires
    # (300 s by default), and no task comes back meanwhile: let it expire after one interval.
    restore_interval = max(1, min(10, settings.visibility_timeout_s // 3))
    transport = {"visibility_timeout": settings.visibility_timeout_s,
                 "unacked_restore_interval": restore_interval, "unacked_restore_throttle": 1,
                 "unacked_mutex_expire": restore_interval}
    app.conf.update(
        task_acks_late=True,  # a task is acknowledged after it ran, so a dead worker's task comes back
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,  # a worker holds no task it is not running
        task_serializer="json", result_serializer="json", accept_content=["json"],
        broker_transport_options=transport, task_ignore_result=True,
        broker_connection_retry_on_startup=True, broker_connection_max_retries=None,
        # A running evaluation finishes through a broker hiccup and still pushes its result.
        worker_cancel_long_running_tasks_on_connection_loss=False,
    )
    return app


@lru_cache(maxsize=4)
def celery_for(broker_url: str, visibility_timeout_s: int) -> Celery:
    return make_celery(Settings(broker_url=broker_url, visibility_timeout_s=visibility_timeout_s))


def app_for(settings: Settings) -> Celery:
    return celery_for(settings.broker_url or "", settings.visibility_timeout_s)
