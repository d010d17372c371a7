"""What a submit may still take: jobs queued or running, trials and device-seconds budgeted per day,
for the account (the server's TUNEFORGE_QUOTA_* settings) and for the key (its own limits, set with
`tuneforge keys create`). Each refusal names its limit and says when to try again."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from tuneforge.api.auth import Principal
from tuneforge.core.errors import QuotaError
from tuneforge.core.settings import Settings
from tuneforge.db.accounts import KeyLimits
from tuneforge.db.records import SubmitUsage, Usage
from tuneforge.db.store import Admission


@dataclass(frozen=True)
class Holder:
    who: str  # "this account" / "key NAME"
    name: Callable[[str], str]  # where a limit (active_jobs, ...) is set, as a refusal names it
    limits: KeyLimits


def _check(holder: Holder, usage: Usage, trials: int) -> None:
    limits = holder.limits
    if limits.active_jobs is not None and usage.active_jobs >= limits.active_jobs:
        raise QuotaError(f"{holder.who} has {usage.active_jobs} jobs queued or running, its limit "
                         f"({holder.name('active_jobs')} = {limits.active_jobs}); wait for one to end or "
                         "cancel one", retry_after_s=30)
    if limits.trials_per_day is not None and usage.trials_today + trials > limits.trials_per_day:
        raise QuotaError(f"{trials} more trials would pass the daily trial budget of {holder.who} "
                         f"({holder.name('trials_per_day')} = {limits.trials_per_day}; "
                         f"{usage.trials_today} used in the last 24 h)", retry_after_s=3600)
    if limits.device_seconds_per_day is not None and usage.device_seconds_today >= limits.device_seconds_per_day:
        raise QuotaError(f"{holder.who} spent {usage.device_seconds_today:.0f} device-seconds in the last 24 h, "
                         f"its limit ({holder.name('device_seconds_per_day')} = "
                         f"{limits.device_seconds_per_day:g})", retry_after_s=3600)


def admission(settings: Settings, who: Principal, trials: int) -> Admission:
    """The check the job store runs inside the submit's transaction, account limits first."""
    account = Holder("this account", lambda limit: f"TUNEFORGE_QUOTA_{limit.upper()}",
                     KeyLimits(active_jobs=settings.quota_active_jobs, trials_per_day=settings.quota_trials_per_day,
                               device_seconds_per_day=settings.quota_device_seconds_per_day))
    key = Holder(f"key {who.key_name!r}", lambda limit: f"the key's --{limit.replace('_', '-')}", who.limits)

    def admit(usage: SubmitUsage) -> None:
        _check(account, usage.account, trials)
        if usage.key is not None:
            _check(key, usage.key, trials)

    return admit
