"""One lease monitor per process: every job it holds is renewed and checked with one query per check,
and each job's watch learns of its own cancel or takeover."""

from __future__ import annotations

import time

from sqlalchemy import event

from tuneforge.db.session import get_engine
from tuneforge.db.store import JobStore
from tuneforge.search.lease import CHECK_S, LeaseWatch
from tests.backbone.helpers import create_job
from tests.conftest import wait_for

OWNER = "lease-test"
LEASE_S = 3.0


def test_many_jobs_share_one_query_per_check_and_each_sees_its_own_fate(settings) -> None:
    store = JobStore(settings.database_url)
    ids = [create_job(settings, device="replay:gemm_RTX_3090", strategy="random", trials=5) for _ in range(12)]
    assert all(store.claim_job(job_id, OWNER, LEASE_S) for job_id in ids)
    statements: list[str] = []
    engine = get_engine(settings.database_url)
    listener = lambda conn, cursor, sql, *rest: statements.append(sql)  # noqa: E731
    event.listen(engine, "before_cursor_execute", listener)
    watches = [LeaseWatch(store, job_id, OWNER, LEASE_S) for job_id in ids]
    try:
        for watch in watches:
            watch.start()
        time.sleep(LEASE_S)  # long enough for a renewal (every lease_s / 3) and several checks
        lease_queries = [sql for sql in statements if "FROM jobs" in sql]
        checks = LEASE_S / min(CHECK_S, LEASE_S / 3)
        assert 1 <= len(lease_queries) <= checks + 2, len(lease_queries)  # one per check, not one per job
        assert any(sql.lstrip().startswith("UPDATE jobs SET heartbeat_at") for sql in statements)

        store.cancel_job(ids[0])
        store.release_job(ids[1], OWNER)
        assert store.claim_job(ids[1], "someone-else", LEASE_S)  # taken over
        wait_for(lambda: watches[0].cancelled.is_set() and watches[1].lost.is_set(), 3 * CHECK_S + 1,
                 "the cancel and the takeover to reach their own jobs' watches")
        assert not any(w.ended for w in watches[2:])
        assert store.get_job(ids[2]).heartbeat_at is not None
    finally:
        event.remove(engine, "before_cursor_execute", listener)
        for watch in watches:
            watch.stop()
