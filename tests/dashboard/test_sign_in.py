"""Signing in to the dashboard with a key, and cancelling a job from its page, in a real Chromium."""

from __future__ import annotations

import httpx
import pytest

from tests.api.conftest import GEMM, make_settings, serve, with_keys

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def keyed_server(tmp_path_factory):
    settings = make_settings(tmp_path_factory.mktemp("signin"))
    keys = with_keys(settings)
    for url in serve(settings):
        yield url, keys


def test_sign_in_once_then_cancel_a_job_from_its_page(browser, keyed_server):
    url, keys = keyed_server
    job_id = httpx.post(f"{url}/api/v1/jobs", json={"device": GEMM, "trials": 5},
                        headers={"Authorization": f"Bearer {keys['alice']}"}, timeout=60).json()["id"]
    context = browser.new_context(base_url=url)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    try:
        page.goto("/dashboard/jobs")
        assert page.url.endswith("/dashboard/login")
        page.fill("input[name=key]", "tf_wrong")
        page.click("form button[type=submit]")
        assert "unknown or revoked key" in page.locator("#login-error").inner_text()
        page.fill("input[name=key]", keys["alice"])
        page.click("form button[type=submit]")
        page.wait_for_url(f"{url}/dashboard")
        assert page.evaluate("document.cookie") == ""  # the session cookie is HttpOnly
        assert keys["alice"] not in page.content()

        page.goto(f"/dashboard/jobs/{job_id}")
        page.click("#cancel-job")
        page.wait_for_function("() => document.querySelector('h1 [data-status]').textContent === 'cancelled'",
                               timeout=30_000)
        assert not errors, errors
    finally:
        context.close()
