"""Who is calling and what they may do.

A request is authenticated by ``Authorization: Bearer KEY`` or by the dashboard's sign-in cookie (a
signed session naming the key, HttpOnly and SameSite=Strict). With no active key at all, a server
that was allowed to run open (loopback only) treats every caller as the local admin. Browser
requests that change something must carry the session's CSRF token in ``X-CSRF-Token``.
"""

from __future__ import annotations

import hmac
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from fastapi import Depends, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from tuneforge.core.errors import QuotaError
from tuneforge.db.accounts import SCOPES, KeyLimits, KeyRecord, KeyStore

OPEN_ACCOUNT = "local"
UNSAFE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}
bearer = HTTPBearer(auto_error=False, description="an API key from `tuneforge keys create`")


@dataclass(frozen=True)
class Principal:
    account: str
    key_name: str
    scopes: frozenset[str]
    key_id: int | None  # None when the server runs open
    limits: KeyLimits = KeyLimits()  # the key's own, within its account's

    @property
    def admin(self) -> bool:
        return "admin" in self.scopes

    @property
    def sees(self) -> str | None:
        """The account whose jobs this caller sees; None = every account (admin, or an open server)."""
        return None if self.admin or self.key_id is None else self.account

    @property
    def owns(self) -> str | None:
        """The account new jobs are stored under (None on an open server: local jobs)."""
        return None if self.key_id is None else self.account

    @property
    def limit_key(self) -> str:
        return f"key:{self.key_id}"


def _from_record(record: KeyRecord) -> Principal:
    return Principal(account=record.account, key_name=record.name, scopes=frozenset(record.scopes),
                     key_id=record.id, limits=record.limits)


class KeyPresence:
    """Whether any active key exists, re-read at most once a second (a new key closes an open server
    within a second; no query per request)."""

    def __init__(self, keys: KeyStore, ttl_s: float = 1.0) -> None:
        self.keys, self.ttl_s = keys, ttl_s
        self._value, self._at = True, -1e9
        self._lock = threading.Lock()

    def __call__(self) -> bool:
        with self._lock:
            if time.monotonic() - self._at > self.ttl_s:
                self._value, self._at = self.keys.any_active(), time.monotonic()
            return self._value


class RateLimiter:
    """A token bucket per caller: ``per_minute`` requests a minute (the server's setting, or the key's
    own), bursts up to that many."""

    def __init__(self, per_minute: int) -> None:
        self.per_minute = per_minute
        self._buckets: dict[str, tuple[float, float]] = {}
        self._lock = threading.Lock()

    def take(self, who: str, per_minute: int | None = None) -> None:
        capacity = float(per_minute or self.per_minute)
        rate = capacity / 60.0
        now = time.monotonic()
        with self._lock:
            tokens, at = self._buckets.get(who, (capacity, now))
            tokens = min(capacity, tokens + (now - at) * rate)
            if tokens < 1:
                self._buckets[who] = (tokens, now)
                source = "this key's own limit" if per_minute else "TUNEFORGE_QUOTA_REQUESTS_PER_MINUTE"
                raise QuotaError(f"request rate limit of {int(capacity)} per minute reached ({source})",
                                 retry_after_s=int((1 - tokens) / rate) + 1)
            self._buckets[who] = (tokens - 1, now)
            if len(self._buckets) > 100_000:  # forget idle callers rather than grow without bound
                self._buckets = {k: v for k, v in self._buckets.items() if now - v[1] < 60}


class StreamSlots:
    """At most ``limit`` live event streams per caller."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._open: dict[str, int] = {}
        self._lock = threading.Lock()

    def acquire(self, who: str) -> None:
        with self._lock:
            if self._open.get(who, 0) >= self.limit:
                raise QuotaError(f"at most {self.limit} live event streams per key (TUNEFORGE_MAX_STREAMS_PER_KEY); "
                                 "close one", retry_after_s=5)
            self._open[who] = self._open.get(who, 0) + 1

    def release(self, who: str) -> None:
        with self._lock:
            self._open[who] -= 1
            if not self._open[who]:
                del self._open[who]


@dataclass
class AuthState:
    keys: KeyStore
    presence: KeyPresence
    allow_open: bool
    limiter: RateLimiter
    streams: StreamSlots


def _unauthorized(message: str) -> HTTPException:
    return HTTPException(401, message, headers={"WWW-Authenticate": "Bearer"})


def authenticate(request: Request, credentials: HTTPAuthorizationCredentials | None = Depends(bearer)) -> Principal:
    state: AuthState = request.app.state.auth
    if credentials is not None:
        record = state.keys.authenticate(credentials.credentials[:256])
        if record is None:
            raise _unauthorized("unknown or revoked API key")
        principal = _from_record(record)
    elif (key_id := request.session.get("key_id")) is not None:
        record = state.keys.get(int(key_id))
        if record is None:
            request.session.clear()
            raise _unauthorized("the dashboard session's key was revoked; sign in again")
        principal = _from_record(record)
        _check_csrf(request)
    elif state.allow_open and not state.presence():
        principal = Principal(account=OPEN_ACCOUNT, key_name="-", scopes=frozenset(SCOPES), key_id=None)
        if request.headers.get("origin") is not None:  # a browser: refuse cross-site posts
            _check_csrf(request)
    else:
        raise _unauthorized("this server needs an API key: send Authorization: Bearer KEY "
                            "(`tuneforge keys create` makes one)")
    state.limiter.take(principal.limit_key if principal.key_id is not None else f"ip:{_client(request)}",
                       principal.limits.requests_per_minute)
    request.state.principal = principal
    return principal


def _client(request: Request) -> str:
    return request.client.host if request.client else "-"


def csrf_token(request: Request) -> str:
    """The session's CSRF token (created on first use); pages put it where their scripts read it."""
    token = request.session.get("csrf")
    if token is None:
        token = request.session["csrf"] = secrets.token_urlsafe(24)
    return token


def _check_csrf(request: Request) -> None:
    if request.method not in UNSAFE_METHODS:
        return
    expected, sent = request.session.get("csrf"), request.headers.get("x-csrf-token", "")
    if not expected or not hmac.compare_digest(expected, sent):
        raise HTTPException(403, "missing or wrong CSRF token (X-CSRF-Token): reload the dashboard page")


def require(scope: str) -> Callable[..., Principal]:
    """A dependency: the caller, who must hold ``scope`` (admin holds every scope)."""

    def check(principal: Principal = Depends(authenticate)) -> Principal:
        if scope not in principal.scopes and not principal.admin:
            raise HTTPException(403, f"this key lacks the {scope!r} scope; create one with "
                                     f"`tuneforge keys create NAME --scopes {scope}`")
        return principal

    return check
