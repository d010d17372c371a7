"""Engines and sessions; one engine per URL per process."""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TypeVar

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

log = logging.getLogger(__name__)
T = TypeVar("T")
# How long a call waits for the database to come back (a restart, a failover) before giving up.
RECONNECT_WINDOW_S = 60.0

_engines: dict[str, Engine] = {}
_upgraded: set[str] = set()


def normalize_url(url: str) -> str:
    """Accept what people type: ``postgresql://`` and ``postgres://`` use psycopg 3 (a dependency)."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url.removeprefix(prefix)
    return url


def get_engine(url: str) -> Engine:
    url = normalize_url(url)
    if url not in _engines:
        if url.startswith("sqlite:///"):
            Path(url.removeprefix("sqlite:///")).expanduser().parent.mkdir(parents=True, exist_ok=True)
            engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False})
            event.listen(engine, "connect", _sqlite_pragmas)
        else:
            # pre-ping replaces a pooled connection the server dropped (restart, idle timeout).
            engine = create_engine(url, pool_pre_ping=True, pool_recycle=1800)
        _engines[url] = engine
    return _engines[url]


def _sqlite_pragmas(dbapi_conn, _record) -> None:
    # WAL lets the API read while a tuning loop writes; foreign keys are off by default in SQLite.
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.close()


def ensure_schema(url: str) -> None:
    """Bring the database to the newest migration once per process (cheap when already there)."""
    if url in _upgraded:
        return
    from tuneforge.db.migrate import upgrade

    upgrade(url)
    _upgraded.add(url)


@contextmanager
def session_scope(url: str) -> Iterator[Session]:
    """A transaction: committed on success, rolled back on any error (nothing half-written)."""
    ensure_schema(url)
    session = sessionmaker(get_engine(url), expire_on_commit=False)()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def retry_disconnects(fn: Callable[..., T]) -> Callable[..., T]:
    """Run a whole transaction again when the connection dropped under it (the server restarted):
    the failed attempt was rolled back, so rerunning it writes nothing twice."""

    @functools.wraps(fn)
    def call(*args, **kwargs) -> T:
        deadline = time.monotonic() + RECONNECT_WINDOW_S
        pause = 0.1
        while True:
            try:
                return fn(*args, **kwargs)
            except DBAPIError as exc:
                if not _transient(exc) or time.monotonic() > deadline:
                    raise
                log.warning("database connection lost in %s; retrying", fn.__name__)
                time.sleep(pause)
                pause = min(pause * 2, 2.0)

    return call


def _transient(exc: DBAPIError) -> bool:
    # A dropped connection, or a PostgreSQL server that refuses connections while it restarts.
    return exc.connection_invalidated or (isinstance(exc, OperationalError)
                                          and type(exc.orig).__module__.startswith("psycopg"))


def retry_disconnects_in(cls: type[T]) -> type[T]:
    """Class decorator: every public method is one transaction, retried as above."""
    for name, attr in list(vars(cls).items()):
        if callable(attr) and not name.startswith("_"):
            setattr(cls, name, retry_disconnects(attr))
    return cls


def forget_inherited_connections() -> None:
    """In a forked child: open connections of its own instead of sharing the parent's sockets."""
    for engine in _engines.values():
        engine.dispose(close=False)
