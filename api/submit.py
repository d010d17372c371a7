"""Submitting a job: validate, store. Shared by REST and the CLI."""

from __future__ import annotations

from typing import Any

from tuneforge.api.options import validate_options
from tuneforge.core.errors import UserInputError
from tuneforge.core.settings import Settings
from tuneforge.db.store import Admission, JobStore
from tuneforge.search.jobspec import build_job_spec
from tuneforge.worker.availability import ensure_device_served


def submit_job(settings: Settings, request: dict[str, Any], account: str | None = None, *,
               key_name: str | None = None, admit: Admission | None = None) -> str:
    """Validate (UserInputError names the fix; nothing is written) and store as queued under
    ``account`` and ``key_name`` if ``admit`` lets it (quotas: api/quotas.py). A scheduler
    (`tuneforge scheduler`, or `tuneforge serve` in embedded mode) claims it from the database, so no
    broker message can be lost between the row and the run."""
    parallelism = request.get("parallelism", 1)
    if parallelism > settings.max_parallelism:
        raise UserInputError(f"parallelism (--parallel) {parallelism} exceeds this server's limit of "
                             f"{settings.max_parallelism} (TUNEFORGE_MAX_PARALLELISM)")
    request = {**request, "options": validate_options(request.get("strategy", "bandit"), request.get("options"))}
    spec = build_job_spec(settings, **request, account=account)
    ensure_device_served(settings, spec.device)
    return JobStore(settings.database_url).create_job(spec, account=account, key_name=key_name, admit=admit)
