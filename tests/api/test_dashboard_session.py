"""The dashboard signs in with a key once (an HttpOnly, SameSite=Strict session cookie) and its
requests that change something carry a CSRF token; a cross-site form post gets nowhere."""

from __future__ import annotations

import re

import httpx

from tests.api.conftest import GEMM, make_settings, serve


def _csrf(html: str) -> str:
    return re.search(r'name="csrf(?:-token)?" (?:content|value)="([^"]+)"', html)[1]


def sign_in(url: str, key: str) -> httpx.Client:
    browser = httpx.Client(base_url=url, timeout=60)
    token = _csrf(browser.get("/dashboard/login").text)
    response = browser.post("/dashboard/login", data={"csrf": token, "key": key})
    assert response.status_code == 303 and response.headers["location"] == "/dashboard"
    return browser


def test_signed_out_pages_send_you_to_sign_in_and_a_wrong_key_is_refused(server):
    with httpx.Client(base_url=server.url, timeout=60) as browser:
        response = browser.get("/dashboard/jobs")
        assert response.status_code == 303 and response.headers["location"] == "/dashboard/login"
        token = _csrf(browser.get("/dashboard/login").text)
        assert browser.post("/dashboard/login", data={"csrf": token, "key": "tf_wrong"}).status_code == 401
        # A sign-in form posted from elsewhere carries no token of this session.
        assert browser.post("/dashboard/login", data={"csrf": "forged", "key": server.keys["alice"]}).status_code == 401


def test_session_cookie_is_httponly_strict_and_holds_no_key(server):
    with httpx.Client(base_url=server.url, timeout=60) as browser:
        token = _csrf(browser.get("/dashboard/login").text)
        response = browser.post("/dashboard/login", data={"csrf": token, "key": server.keys["alice"]})
        cookie = response.headers["set-cookie"].lower()
        assert "httponly" in cookie and "samesite=strict" in cookie
        assert server.keys["alice"].lower() not in cookie
        page = browser.get("/dashboard/jobs").text
        assert server.keys["alice"] not in page


def test_cancel_from_the_session_needs_its_csrf_token(server):
    with server.client("alice") as alice:
        job_id = alice.post("/api/v1/jobs", json={"device": GEMM, "trials": 3}).json()["id"]
    browser = sign_in(server.url, server.keys["alice"])
    try:
        assert browser.get(f"/api/v1/jobs/{job_id}").status_code == 200  # the cookie authenticates reads
        assert browser.post(f"/api/v1/jobs/{job_id}/cancel").status_code == 403
        forged = browser.post(f"/api/v1/jobs/{job_id}/cancel", headers={"X-CSRF-Token": "guess"})
        assert forged.status_code == 403 and "CSRF" in forged.json()["detail"]
        assert browser.get(f"/api/v1/jobs/{job_id}").json()["status"] == "queued"
        token = _csrf(browser.get(f"/dashboard/jobs/{job_id}").text)
        done = browser.post(f"/api/v1/jobs/{job_id}/cancel", headers={"X-CSRF-Token": token})
        assert done.status_code == 200 and done.json()["status"] == "cancelled"
    finally:
        browser.close()


def test_an_open_loopback_server_refuses_cross_site_posts(tmp_path):
    settings = make_settings(tmp_path)
    for url in serve(settings):
        with httpx.Client(base_url=url, timeout=60) as local:
            job_id = local.post("/api/v1/jobs", json={"device": GEMM, "trials": 3}).json()["id"]  # no key needed
            cross_site = local.post(f"/api/v1/jobs/{job_id}/cancel", headers={"Origin": "http://evil.example"})
            assert cross_site.status_code == 403
            token = _csrf(local.get("/dashboard/jobs").text)
            same_site = local.post(f"/api/v1/jobs/{job_id}/cancel",
                                   headers={"Origin": url, "X-CSRF-Token": token})
            assert same_site.status_code == 200


def test_a_server_that_may_not_run_open_needs_a_key_even_with_none_created(tmp_path):
    settings = make_settings(tmp_path)
    for url in serve(settings, allow_open=False):
        with httpx.Client(base_url=url, timeout=60) as anonymous:
            assert anonymous.get("/api/v1/jobs").status_code == 401
