"""Submitting a job: validate, store, hand to a runner. Shared by REST and the CLI."""

from __future__ import annotations

from typing import Any

from tuneforge.api.options import validate_options
from tuneforge.core.errors import UserInputError
from tuneforge.core.settings import Settings
from tuneforge.db.store import JobStore
from tuneforge.search.jobspec import build_job_spec


def submit_job(settings: Settings, request: dict[str, Any], account: str | None = None) -> str:
    """Validate (UserInputError names the fix; nothing is written), store as queued under ``account``,
    and enqueue by task name in distributed mode. In embedded mode the server's runner picks it up."""
    parallelism = request.get("parallelism", 1)
    if parallelism > settings.max_parallelism:
        raise UserInputError(f"parallelism (--parallel) {parallelism} exceeds this server's limit of "
                             f"{settings.max_parallelism} (TUNEFORGE_MAX_PARALLELISM)")
    request = {**request, "options": validate_options(request.get("strategy", "bandit"), request.get("options"))}
    spec = build_job_spec(settings, **request)
    job_id = JobStore(settings.database_url).create_job(spec, account=account)
    if settings.distributed:
        from tuneforge.worker.celery_app import app_for

        app_for(settings).send_task("tuneforge.run_job", args=[job_id])
    return job_id
