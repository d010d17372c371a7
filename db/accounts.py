"""Accounts, their API keys and the audit log.

A key is 32 random bytes (``secrets.token_urlsafe``), shown once; only its SHA-256 is stored. A key
that random needs no slow hash: guessing it is as hard as guessing the digest's preimage.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select

from tuneforge.core.errors import ConflictError, NotFoundError, UserInputError
from tuneforge.db.models import ApiKey, AuditEvent, utcnow
from tuneforge.db.session import session_scope

SCOPES = ("read", "submit", "cancel", "admin")
KEY_PREFIX = "tf_"
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")


@dataclass(frozen=True)
class KeyLimits:
    """A key's own limits; None leaves only the server's per-account setting (TUNEFORGE_QUOTA_*), which
    api/quotas.py reads into the same shape."""

    requests_per_minute: int | None = None
    active_jobs: int | None = None
    trials_per_day: int | None = None
    device_seconds_per_day: float | None = None

    def check(self) -> None:
        for name, value in vars(self).items():
            if value is not None and value <= 0:
                raise UserInputError(f"{name.replace('_', ' ')} must be positive, got {value:g}")


@dataclass(frozen=True)
class KeyRecord:
    id: int
    name: str
    account: str
    scopes: tuple[str, ...]
    limits: KeyLimits
    created_at: datetime
    revoked_at: datetime | None

    @property
    def admin(self) -> bool:
        return "admin" in self.scopes


def digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def parse_scopes(text: str) -> tuple[str, ...]:
    scopes = tuple(dict.fromkeys(s.strip() for s in text.split(",") if s.strip()))
    unknown = [s for s in scopes if s not in SCOPES]
    if not scopes or unknown:
        raise UserInputError(f"scopes must be a comma-separated subset of {','.join(SCOPES)}; got {text!r}")
    return scopes


def _check_name(kind: str, value: str) -> str:
    if not _NAME.match(value):
        raise UserInputError(f"{kind} {value!r}: use 1-64 letters, digits, '_', '.' or '-', starting with a "
                             "letter or digit")
    return value


def _record(row: ApiKey) -> KeyRecord:
    limits = KeyLimits(row.requests_per_minute, row.quota_active_jobs, row.quota_trials_per_day,
                       row.quota_device_seconds_per_day)
    return KeyRecord(id=row.id, name=row.name, account=row.account, scopes=tuple(row.scopes), limits=limits,
                     created_at=row.created_at, revoked_at=row.revoked_at)


class KeyStore:
    def __init__(self, url: str) -> None:
        self.url = url

    def create(self, name: str, account: str, scopes: tuple[str, ...],
               limits: KeyLimits = KeyLimits()) -> tuple[KeyRecord, str]:
        """A new key; returns its record and the key itself (the only time it is seen). ``limits``:
        this key's own, within its account's."""
        _check_name("key name", name)
        limits.check()
        _check_name("account", account)
        key = KEY_PREFIX + secrets.token_urlsafe(32)
        with session_scope(self.url) as s:
            if s.scalar(select(ApiKey.id).where(ApiKey.name == name)) is not None:
                raise ConflictError(f"a key named {name!r} exists; pick another name or revoke it first")
            row = ApiKey(name=name, account=account, scopes=list(scopes), digest=digest(key),
                         requests_per_minute=limits.requests_per_minute, quota_active_jobs=limits.active_jobs,
                         quota_trials_per_day=limits.trials_per_day,
                         quota_device_seconds_per_day=limits.device_seconds_per_day)
            s.add(row)
            s.add(AuditEvent(account=account, key_name=name, action="key.create", subject=",".join(scopes)))
            s.flush()
            return _record(row), key

    def list(self) -> list[KeyRecord]:
        with session_scope(self.url) as s:
            return [_record(r) for r in s.scalars(select(ApiKey).order_by(ApiKey.account, ApiKey.name))]

    def revoke(self, name: str) -> KeyRecord:
        with session_scope(self.url) as s:
            row = s.scalars(select(ApiKey).where(ApiKey.name == name)).first()
            if row is None:
                raise NotFoundError(f"no key named {name!r}; `tuneforge keys list` shows them")
            if row.revoked_at is None:
                row.revoked_at = utcnow()
                s.add(AuditEvent(account=row.account, key_name=name, action="key.revoke", subject=name))
            return _record(row)

    def any_active(self) -> bool:
        with session_scope(self.url) as s:
            return s.scalar(select(func.count()).select_from(ApiKey).where(ApiKey.revoked_at.is_(None))) > 0

    def authenticate(self, key: str) -> KeyRecord | None:
        """The active key with this value, or None. The lookup is by digest (an index), then the digests
        are compared in constant time so the match itself leaks no timing."""
        wanted = digest(key)
        with session_scope(self.url) as s:
            row = s.scalars(select(ApiKey).where(ApiKey.digest == wanted, ApiKey.revoked_at.is_(None))).first()
            if row is None or not hmac.compare_digest(row.digest, wanted):
                return None
            return _record(row)

    def get(self, key_id: int) -> KeyRecord | None:
        with session_scope(self.url) as s:
            row = s.get(ApiKey, key_id)
            return None if row is None or row.revoked_at is not None else _record(row)

    def audit(self, account: str, key_name: str, action: str, subject: str) -> None:
        with session_scope(self.url) as s:
            s.add(AuditEvent(account=account, key_name=key_name, action=action, subject=subject[:128]))

    def audit_log(self, *, since: timedelta | None = None, limit: int = 100) -> list[dict]:
        with session_scope(self.url) as s:
            query = select(AuditEvent).order_by(AuditEvent.id.desc()).limit(limit)
            if since is not None:
                query = query.where(AuditEvent.at >= utcnow() - since)
            return [{"at": e.at.isoformat(), "account": e.account, "key": e.key_name, "action": e.action,
                     "subject": e.subject} for e in s.scalars(query)]
