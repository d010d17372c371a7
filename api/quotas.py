"""What a submit may still take: jobs queued or running, trials and device-seconds budgeted per day,
for the account (the server's TUNEFORGE_QUOTA_* settings) and for the key (its own limits, set with
`tuneforge keys create`). Each refusal names its limit and says when to try again."""

from __future__ import annotations

from dataclasses import dataclass

from tuneforge.api.auth import Principal
from tuneforge.core.errors import QuotaError
from tuneforge.core.settings import Settings
from tuneforge.db.records import SubmitUsage, Usage
from tuneforge.db.store import Admission


@dataclass(frozen=True)
class Limits:
    holder: str  # "this account" / "key NAME"
    setting: str  # where each limit is set, named in a refusal; {} is the limit's name
    active_jobs: int | None
    trials_per_day: int | None
    device_seconds_per_day: float | None

    def name(self, limit: str) -> str:
        return self.setting.format(limit.upper() if self.setting.startswith("TUNEFORGE") else limit.replace("_", "-"))


def _check(limits: Limits, usage: Usage, trials: int) -> None:
    if limits.active_jobs is not None and usage.active_jobs >= limits.active_jobs:
        raise QuotaError(f"{limits.holder} has {usage.active_jobs} jobs queued or running, its limit "
                         f"({limits.name('active_jobs')} = {limits.active_jobs}); wait for one to end or "
                         "cancel one", retry_after_s=30)
    if limits.trials_per_day is not None and usage.trials_today + trials > limits.trials_per_day:
        raise QuotaError(f"{trials} more trials would pass the daily trial budget of {limits.holder} "
                         f"({limits.name('trials_per_day')} = {limits.trials_per_day}; "
                         f"{usage.trials_today} used in the last 24 h)", retry_after_s=3600)
    if limits.device_seconds_per_day is not None and usage.device_seconds_today >= limits.device_seconds_per_day:
        raise QuotaError(f"{limits.holder} spent {usage.device_seconds_today:.0f} device-seconds in the last 24 h, "
                         f"its limit ({limits.name('device_seconds_per_day')} = "
                         f"{limits.device_seconds_per_day:g})", retry_after_s=3600)


def admission(settings: Settings, who: Principal, trials: int) -> Admission:
    """The check the job store runs inside the submit's transaction, account limits first."""
    account = Limits("this account", "TUNEFORGE_QUOTA_{}", settings.quota_active_jobs, settings.quota_trials_per_day,
                     settings.quota_device_seconds_per_day)
    key = Limits(f"key {who.key_name!r}", "the key's --{}", who.limits.active_jobs, who.limits.trials_per_day,
                 who.limits.device_seconds_per_day)

    def admit(usage: SubmitUsage) -> None:
        _check(account, usage.account, trials)
        if usage.key is not None:
            _check(key, usage.key, trials)

    return admit
