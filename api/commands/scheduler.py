"""``tuneforge scheduler``: the process kind that runs job loops in distributed mode."""

from __future__ import annotations

import logging
import signal
from typing import Optional

import typer

from tuneforge.api.console import fail, out
from tuneforge.core.settings import get_settings


def register(app: typer.Typer, bench: typer.Typer) -> None:
    @app.command()
    def scheduler(jobs: Optional[int] = typer.Option(None, help="job loops run at once "
                                                     "(default TUNEFORGE_SCHEDULER_JOBS)")) -> None:
        """Run job loops: claim queued jobs (and those of a scheduler that died) and send their candidates
        to the workers. Loops take no evaluation slot; run one or more next to `tuneforge serve`."""
        from tuneforge.db.session import ensure_schema
        from tuneforge.worker.scheduler import JobScheduler

        settings = get_settings()
        if not settings.distributed:
            fail("the scheduler runs distributed jobs: set TUNEFORGE_BROKER_URL=redis://HOST:6379/0 and "
                 "TUNEFORGE_DATABASE_URL=postgresql://... (embedded mode: `tuneforge serve` runs jobs itself)")
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
        ensure_schema(settings.database_url)
        runner = JobScheduler(settings, max_jobs=jobs or settings.scheduler_jobs)

        def stop(signum, _frame) -> None:
            runner.stopping.set()  # loops end at their next step and hand their jobs on

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        out.print(f"scheduler {runner.owner}: up to {runner.max_jobs} jobs at once")
        runner.serve()
        runner.stop()
