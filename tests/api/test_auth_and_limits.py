"""The service as an attacker meets it over real HTTP: keys, accounts, scopes, quotas, limits."""

from __future__ import annotations

import re
import time

import httpx
import pytest

from tuneforge.db.accounts import KeyLimits, KeyStore
from tests.api.conftest import GEMM, make_settings, serve, with_keys


def submit(client: httpx.Client, **body) -> httpx.Response:
    return client.post("/api/v1/jobs", json={"device": GEMM, "trials": 5, **body})


def test_no_key_or_a_bad_key_is_401_and_health_stays_open(server):
    with server.client() as anonymous:
        assert anonymous.get("/healthz").status_code == 200
        for method, path in [("GET", "/api/v1/jobs"), ("POST", "/api/v1/jobs"), ("GET", "/api/v1/leaderboard"),
                             ("GET", "/api/v1/devices"), ("GET", "/metrics"), ("POST", "/api/v1/jobs/x/cancel")]:
            response = anonymous.request(method, path)
            assert response.status_code == 401, path
            assert response.headers["www-authenticate"] == "Bearer"
        bad = anonymous.get("/api/v1/jobs", headers={"Authorization": "Bearer tf_not-a-key"})
        assert bad.status_code == 401 and "unknown or revoked" in bad.json()["detail"]


def test_another_accounts_job_is_404_everywhere_and_admin_sees_it(server):
    with server.client("alice") as alice, server.client("bob") as bob, server.client("root") as root:
        job_id = submit(alice).json()["id"]
        for path in [f"/api/v1/jobs/{job_id}", f"/api/v1/jobs/{job_id}/trials", f"/api/v1/jobs/{job_id}/events",
                     f"/api/v1/jobs/{job_id}/agent-calls", f"/api/v1/jobs/{job_id}/analysis"]:
            assert bob.get(path).status_code == 404, path
        assert bob.post(f"/api/v1/jobs/{job_id}/cancel").status_code == 404
        assert job_id not in [j["id"] for j in bob.get("/api/v1/jobs").json()]
        assert job_id in [j["id"] for j in alice.get("/api/v1/jobs").json()]
        assert root.get(f"/api/v1/jobs/{job_id}").json()["account"] == "alice"
        assert alice.post(f"/api/v1/jobs/{job_id}/cancel").json()["status"] == "cancelled"
        assert alice.post(f"/api/v1/jobs/{job_id}/cancel").status_code == 409
    actions = [(e["account"], e["action"], e["subject"]) for e in KeyStore(server.settings.database_url).audit_log()]
    assert ("alice", "job.submit", job_id) in actions and ("alice", "job.cancel", job_id) in actions
    assert ("ops", "key.create", "admin") in actions


def test_a_missing_scope_is_403_naming_it(server):
    with server.client("alice-ro") as reader:
        response = submit(reader)
        assert response.status_code == 403 and "'submit' scope" in response.json()["detail"]
        assert reader.get("/api/v1/jobs").status_code == 200


def test_a_revoked_key_is_401_at_once(tmp_path):
    settings = make_settings(tmp_path)
    keys = with_keys(settings)
    for url in serve(settings):
        with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {keys['bob']}"}) as bob:
            assert bob.get("/api/v1/jobs").status_code == 200
            KeyStore(settings.database_url).revoke("bob")
            assert bob.get("/api/v1/jobs").status_code == 401


def test_active_jobs_quota_is_429_with_retry_after_naming_the_limit(server):
    with server.client("bob") as bob:
        codes = [submit(bob).status_code for _ in range(5)]
        assert codes == [201, 201, 201, 201, 429]
        refused = submit(bob)
        assert refused.status_code == 429 and int(refused.headers["retry-after"]) > 0
        assert "TUNEFORGE_QUOTA_ACTIVE_JOBS" in refused.json()["detail"]


def test_request_rate_limit_is_429_per_key(tmp_path):
    settings = make_settings(tmp_path, quota_requests_per_minute=5)
    keys = with_keys(settings)
    for url in serve(settings):
        with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {keys['alice']}"}) as alice, \
                httpx.Client(base_url=url, headers={"Authorization": f"Bearer {keys['bob']}"}) as bob:
            codes = [alice.get("/api/v1/targets").status_code for _ in range(7)]
            assert codes[:5] == [200] * 5 and codes[5:] == [429, 429]
            assert "TUNEFORGE_QUOTA_REQUESTS_PER_MINUTE" in alice.get("/api/v1/targets").json()["detail"]
            assert bob.get("/api/v1/targets").status_code == 200  # another key has its own bucket
            _, own = KeyStore(settings.database_url).create("burst", "carol", ("read",), KeyLimits(requests_per_minute=20))
            with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {own}"}) as carol:
                codes = [carol.get("/api/v1/targets").status_code for _ in range(21)]
                assert codes[:20] == [200] * 20 and codes[20] == 429  # a key's own limit beats the setting
                assert "this key's own limit" in carol.get("/api/v1/targets").json()["detail"]


@pytest.mark.parametrize("body, says", [
    ({"options": {"warm_strat": False}}, "unknown option 'warm_strat'"),
    ({"options": {"warm_start": "yes"}}, "option 'warm_start'"),
    ({"parallelism": 1024}, "TUNEFORGE_MAX_PARALLELISM"),
])
def test_options_and_parallelism_are_checked_before_anything_is_stored(server, body, says):
    with server.client("alice") as alice:
        before = len(alice.get("/api/v1/jobs").json())
        response = submit(alice, **body)
        assert response.status_code == 400 and says in response.json()["detail"]
        assert len(alice.get("/api/v1/jobs").json()) == before


@pytest.mark.parametrize("body", [
    {"options": {"x": "a" * 70_000}},
    {"objectives": ["latency"] * 100_000},
])
def test_huge_bodies_are_refused_before_parsing(server, body):
    with server.client("alice") as alice:
        response = submit(alice, **body)
        assert response.status_code == 413 and "TUNEFORGE_MAX_BODY_BYTES" in response.json()["detail"]


@pytest.mark.parametrize("body", [{"seed": 2**64}, {"trials": int("9" * 4300)}, {"shape": "M=1000000000000000000000000000000"},
                                  {"shape": {"M": 10**30}}, {"objectives": [f"o{i}" for i in range(10)]}])
def test_out_of_range_numbers_and_lists_are_422_not_500(server, body):
    with server.client("alice") as alice:
        assert submit(alice, **body).status_code == 422


def test_foreign_host_header_is_refused(server):
    with server.client("alice") as alice:
        assert alice.get("/api/v1/jobs", headers={"Host": "evil.example"}).status_code == 400
        assert alice.get("/api/v1/jobs", headers={"Host": "localhost"}).status_code == 200


def test_security_headers_and_docs_without_a_cdn(server):
    with server.client() as anonymous:
        for path in ["/dashboard/login", "/docs", "/healthz"]:
            headers = anonymous.get(path).headers
            assert "frame-ancestors 'none'" in headers["content-security-policy"]
            assert headers["x-content-type-options"] == "nosniff" and headers["referrer-policy"] == "no-referrer"
        docs = anonymous.get("/docs").text
        assert "cdn" not in docs.lower() and not re.search(r"src=\"https?://", docs)
        for asset in re.findall(r'(?:src|href)="(/[^"]+)"', docs):
            assert anonymous.get(asset).status_code == 200, asset


def test_event_streams_are_capped_per_key(server):
    with server.client("root") as root, server.client("alice") as alice:
        job_id = submit(alice).json()["id"]
        with root.stream("GET", f"/api/v1/jobs/{job_id}/events") as first:
            assert first.status_code == 200
            second = root.get(f"/api/v1/jobs/{job_id}/events")
            assert second.status_code == 429 and "TUNEFORGE_MAX_STREAMS_PER_KEY" in second.json()["detail"]
        # A stream the client dropped gives its slot back.
        deadline = time.monotonic() + 10
        while True:
            with root.stream("GET", f"/api/v1/jobs/{job_id}/events") as again:
                if again.status_code == 200:
                    break
            assert time.monotonic() < deadline, "the dropped stream's slot was never released"
            time.sleep(0.2)
        alice.post(f"/api/v1/jobs/{job_id}/cancel")


def test_analysis_is_computed_once_per_job_state_however_many_ask(server, monkeypatch):
    from concurrent.futures import ThreadPoolExecutor

    from tuneforge.api.dashboard import analysis

    computed = []
    real = analysis._analyse_job

    def counted(store, job):
        computed.append(job.id)
        time.sleep(0.5)  # long enough for every request to arrive while the first computes
        return real(store, job)

    monkeypatch.setattr(analysis, "_analyse_job", counted)
    with server.client("root") as root:
        job_id = submit(root).json()["id"]
        with ThreadPoolExecutor(8) as pool:
            answers = list(pool.map(lambda _: root.get(f"/api/v1/jobs/{job_id}/analysis"), range(8)))
        assert {a.status_code for a in answers} == {200}
        assert computed == [job_id]
        root.post(f"/api/v1/jobs/{job_id}/cancel")  # a new job state: analysed once more
        assert root.get(f"/api/v1/jobs/{job_id}/analysis").status_code == 200
        assert computed == [job_id, job_id]
