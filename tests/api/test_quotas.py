"""Quotas per account and per key, over real HTTP; simultaneous submits never overrun a quota."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from tuneforge.db.accounts import KeyLimits, KeyStore
from tuneforge.db.session import ensure_schema
from tests.api.conftest import GEMM, make_settings, serve


def _client(url: str, key: str) -> httpx.Client:
    return httpx.Client(base_url=url, headers={"Authorization": f"Bearer {key}"}, timeout=60)


def _submit(url: str, key: str, trials: int = 5) -> httpx.Response:
    with _client(url, key) as client:
        return client.post("/api/v1/jobs", json={"device": GEMM, "trials": trials})


def _keys(settings, *specs: tuple[str, str, KeyLimits]) -> dict[str, str]:
    ensure_schema(settings.database_url)
    store = KeyStore(settings.database_url)
    return {name: store.create(name, account, ("read", "submit", "cancel"), limits)[1]
            for name, account, limits in specs}


def test_a_keys_own_limits_apply_within_its_accounts(tmp_path):
    settings = make_settings(tmp_path, quota_active_jobs=3, quota_trials_per_day=1000)
    keys = _keys(settings, ("ci", "team", KeyLimits(active_jobs=1, trials_per_day=30)),
                 ("dev", "team", KeyLimits()))
    for url in serve(settings):
        assert _submit(url, keys["ci"]).status_code == 201
        refused = _submit(url, keys["ci"])
        assert refused.status_code == 429 and int(refused.headers["retry-after"]) > 0
        assert "key 'ci'" in refused.json()["detail"] and "--active-jobs" in refused.json()["detail"]
        # The account still has room: its other key submits until the account's own limit.
        assert [_submit(url, keys["dev"]).status_code for _ in range(3)] == [201, 201, 429]
        assert "TUNEFORGE_QUOTA_ACTIVE_JOBS" in _submit(url, keys["dev"]).json()["detail"]
        with _client(url, keys["dev"]) as dev:
            for job in dev.get("/api/v1/jobs").json():
                assert dev.post(f"/api/v1/jobs/{job['id']}/cancel").status_code == 200
        # Cancelled jobs free their slots, but their trial budgets still count for the day.
        refused = _submit(url, keys["ci"], trials=26)
        assert refused.status_code == 429 and "--trials-per-day" in refused.json()["detail"]
        assert "5 used" in refused.json()["detail"]
        assert _submit(url, keys["ci"], trials=25).status_code == 201


@pytest.mark.parametrize("database", ["sqlite", "postgresql"])
def test_simultaneous_submits_never_overrun_the_active_jobs_quota(tmp_path, request, database):
    url_of_db = f"sqlite:///{tmp_path / 'q.db'}" if database == "sqlite" else request.getfixturevalue("postgres_url")
    settings = make_settings(tmp_path, quota_active_jobs=3).model_copy(update={"database_url": url_of_db})
    keys = _keys(settings, ("a", "shared", KeyLimits()), ("b", "shared", KeyLimits()), ("c", "shared", KeyLimits()))
    for url in serve(settings):
        with ThreadPoolExecutor(max_workers=12) as pool:
            codes = list(pool.map(lambda i: _submit(url, keys["abc"[i % 3]]).status_code, range(12)))
        assert sorted(codes) == [201] * 3 + [429] * 9, codes
        with _client(url, keys["a"]) as client:
            assert len(client.get("/api/v1/jobs").json()) == 3


def test_keys_cli_sets_and_lists_a_keys_limits(tmp_path):
    from typer.testing import CliRunner

    from tuneforge.api.cli import app

    env = {"TUNEFORGE_DATABASE_URL": f"sqlite:///{tmp_path / 'k.db'}"}
    made = CliRunner().invoke(app, ["keys", "create", "ci", "--account", "team", "--active-jobs", "2",
                                    "--device-seconds-per-day", "600", "--json"], env=env)
    assert made.exit_code == 0, made.output
    listed = CliRunner().invoke(app, ["keys", "list", "--json"], env=env)
    [row] = __import__("json").loads(listed.output)
    assert row["limits"] == {"requests_per_minute": None, "active_jobs": 2, "trials_per_day": None,
                             "device_seconds_per_day": 600.0}
    bad = CliRunner().invoke(app, ["keys", "create", "zero", "--active-jobs", "0"], env=env)
    assert bad.exit_code != 0 and "active jobs must be positive" in bad.output
