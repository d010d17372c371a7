"""Per-account limits checked before a job is stored: jobs queued or running, trials and device-seconds
budgeted per day. Each refusal names its limit and says when to try again."""

from __future__ import annotations

from datetime import timedelta

from tuneforge.core.errors import QuotaError
from tuneforge.core.settings import Settings
from tuneforge.db.models import utcnow
from tuneforge.db.store import JobStore

DAY = timedelta(days=1)


def check_submit(settings: Settings, store: JobStore, account: str | None, trials: int) -> None:
    active, trials_today, seconds_today = store.account_usage(account, since=utcnow() - DAY)
    if active >= settings.quota_active_jobs:
        raise QuotaError(f"this account has {active} jobs queued or running, its limit "
                         f"(TUNEFORGE_QUOTA_ACTIVE_JOBS = {settings.quota_active_jobs}); wait for one to end or "
                         "cancel one", retry_after_s=30)
    if trials_today + trials > settings.quota_trials_per_day:
        raise QuotaError(f"{trials} more trials would pass this account's daily trial budget "
                         f"(TUNEFORGE_QUOTA_TRIALS_PER_DAY = {settings.quota_trials_per_day}; "
                         f"{trials_today} used in the last 24 h)", retry_after_s=3600)
    if seconds_today >= settings.quota_device_seconds_per_day:
        raise QuotaError(f"this account spent {seconds_today:.0f} device-seconds in the last 24 h, its limit "
                         f"(TUNEFORGE_QUOTA_DEVICE_SECONDS_PER_DAY = {settings.quota_device_seconds_per_day:g})",
                         retry_after_s=3600)
