"""Is anyone able to evaluate a device's candidates? Asked at submit, so a job nobody can run is
refused with the fix instead of running with every trial crashed or waiting forever."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from tuneforge.core.errors import UserInputError
from tuneforge.core.settings import Settings
from tuneforge.db.records import WorkerRecord
from tuneforge.db.store import JobStore
from tuneforge.evaluators.registry import resolve_device
from tuneforge.worker.celery_app import eval_queue

BEATS_UNTIL_GONE = 3  # a worker silent for this many heartbeats no longer counts


def live_workers_by_queue(settings: Settings) -> dict[str, list[WorkerRecord]]:
    """Workers that recorded a heartbeat recently, by the queues they consume."""
    by_queue: dict[str, list[WorkerRecord]] = defaultdict(list)
    for worker in JobStore(settings.database_url).workers(within_s=BEATS_UNTIL_GONE * settings.worker_heartbeat_s):
        for queue in worker.queues:
            by_queue[queue].append(worker)
    return dict(by_queue)


def ensure_device_served(settings: Settings, device: str) -> None:
    """Raise UserInputError naming the fix when no process here (embedded) or no live worker
    (distributed) can evaluate candidates for ``device``."""
    kind = resolve_device(device, settings).queue
    if settings.distributed:
        queue = eval_queue(kind)
        if not live_workers_by_queue(settings).get(queue):
            raise UserInputError(f"no live worker serves queue {queue} for device {device!r}: start one with "
                                 f"`tuneforge worker --device {kind}` (`tuneforge devices` lists live workers)")
    elif kind == "cuda":
        from tuneforge.evaluators.devices.triton_cuda import NO_GPU, gpu_visible

        if not gpu_visible():
            raise UserInputError(f"device {device!r} is unavailable here: {NO_GPU}")


def add_live_workers(settings: Settings, devices: list[dict[str, Any]]) -> None:
    """In distributed mode, give each device row (with its ``queue`` kind) the names of the live
    workers that serve it; an empty list means a job for it would be refused."""
    if not settings.distributed:
        return
    by_queue = live_workers_by_queue(settings)
    for row in devices:
        row["live_workers"] = sorted(w.name for w in by_queue.get(eval_queue(row["queue"]), [])) \
            if row["queue"] != "-" else []
