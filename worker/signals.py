"""A worker records itself (queues, host, devices) in the database when it starts and as it runs."""

from __future__ import annotations

import threading

from celery.signals import worker_ready, worker_shutdown

from tuneforge.core.settings import Settings
from tuneforge.db.store import JobStore

def connect_worker_signals(settings: Settings, queues: list[str]) -> None:
    store = JobStore(settings.database_url)
    stop = threading.Event()

    def announce(name: str, concurrency: int) -> None:
        # The slots count towards the queues' fair shares (``worker/fair_share.py``).
        store.worker_seen(name, queues, {"mode": "distributed", "concurrency": concurrency})

    @worker_ready.connect(weak=False)
    def on_ready(sender=None, **_):
        name = sender.hostname if sender is not None else "worker"
        # The sender is the worker's consumer; its controller knows the pool's size.
        concurrency = int(getattr(getattr(sender, "controller", None), "concurrency", None) or 1)
        announce(name, concurrency)

        def beat() -> None:
            while not stop.wait(settings.worker_heartbeat_s):
                try:
                    announce(name, concurrency)
                except Exception:  # the database restarting must not stop the beats
                    pass

        threading.Thread(target=beat, daemon=True, name="worker-seen").start()

    @worker_shutdown.connect(weak=False)
    def on_shutdown(sender=None, **_):
        stop.set()
        # No longer serving: new jobs for these queues are refused instead of waiting for us.
        store.worker_gone(sender.hostname if sender is not None else "worker")
