"""PostgreSQL through psycopg 3: the URLs people type work, and a dropped connection is survived."""

from __future__ import annotations

import pytest
from sqlalchemy import create_engine, text

from tuneforge.db.session import get_engine, normalize_url
from tuneforge.db.store import JobStore
from tests.backbone.helpers import create_job

pytestmark = pytest.mark.services


@pytest.mark.parametrize("typed", ["postgresql://u@h:5432/db", "postgres://u@h:5432/db"])
def test_plain_postgres_urls_use_psycopg_3(typed):
    assert normalize_url(typed) == "postgresql+psycopg://u@h:5432/db"
    assert normalize_url("postgresql+psycopg2://u@h/db") == "postgresql+psycopg2://u@h/db"  # explicit driver kept


def test_plain_url_runs_and_a_killed_connection_is_retried(postgres_url, settings):
    assert postgres_url.startswith("postgresql://")
    pg = settings.model_copy(update={"database_url": postgres_url})
    job_id = create_job(pg, strategy="random", trials=3)
    store = JobStore(postgres_url)
    assert store.get_job(job_id).status == "queued"
    # The server drops every connection of this database (as on a restart); the next call must still work.
    name = postgres_url.rsplit("/", 1)[1]
    admin = create_engine(normalize_url(postgres_url), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        killed = conn.execute(text("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                                   "WHERE datname = :name AND pid <> pg_backend_pid()"), {"name": name}).scalar()
    admin.dispose()
    assert killed >= 1
    assert get_engine(postgres_url).pool.checkedout() == 0
    assert store.cancel_job(job_id).status == "cancelled"
