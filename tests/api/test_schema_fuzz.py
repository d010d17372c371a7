"""schemathesis against the served OpenAPI with every check: no 5xx, no undocumented status code or
content type, responses that match their schemas, schema-valid requests accepted (see
schemathesis.toml for the one refusal a schema cannot state). Bounded: a few examples per operation."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from tests.api.conftest import make_settings, serve, with_keys

CONFIG = Path(__file__).with_name("schemathesis.toml")


def test_schemathesis_finds_no_issue(tmp_path):
    pytest.importorskip("schemathesis")
    settings = make_settings(tmp_path)
    keys = with_keys(settings)
    for url in serve(settings):
        auth = f"Authorization: Bearer {keys['alice']}"
        httpx.get(f"{url}/api/v1/devices", headers={"Authorization": auth.split(": ")[1]}, timeout=120)  # warm up
        run = subprocess.run(
            [sys.executable, "-c", "from schemathesis.cli import schemathesis; schemathesis()",
             "--config-file", str(CONFIG), "run", f"{url}/openapi.json", "--checks", "all", "-H", auth,
             "--max-examples", "10", "--seed", "1", "--no-shrink", "--warnings", "off", "--request-timeout", "60"],
            capture_output=True, text=True, timeout=300, cwd=tmp_path)  # its cache stays out of the checkout
        assert run.returncode == 0 and "No issues found" in run.stdout, run.stdout[-6000:]
