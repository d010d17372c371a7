"""``tuneforge serve`` is safe by default and ``tuneforge keys`` manages keys, as a user runs them."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import httpx

from tests.api.conftest import free_port
from tests.conftest import SPACES_DIR

TUNEFORGE = [sys.executable, "-m", "tuneforge"]


def _env(tmp_path) -> dict[str, str]:
    env = {**os.environ, "TUNEFORGE_DATABASE_URL": f"sqlite:///{tmp_path / 'cli.db'}",
           "TUNEFORGE_SPACES_DIR": str(SPACES_DIR)}
    env.pop("TUNEFORGE_BROKER_URL", None)
    return env


def run(args, tmp_path, check=True):
    return subprocess.run([*TUNEFORGE, *args], capture_output=True, text=True, env=_env(tmp_path), check=check,
                          timeout=120)


def test_serve_refuses_a_public_bind_without_keys(tmp_path):
    out = run(["serve", "--host", "0.0.0.0", "--port", str(free_port())], tmp_path, check=False)
    assert out.returncode == 2 and "refusing to serve on 0.0.0.0 without API keys" in out.stderr


def test_serve_on_loopback_without_keys_says_it_is_open(tmp_path):
    port = free_port()
    server = subprocess.Popen([*TUNEFORGE, "serve", "--port", str(port)], env=_env(tmp_path), text=True,
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        first_line = server.stderr.readline()
        assert "serving OPEN on loopback" in first_line
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                assert httpx.get(f"http://127.0.0.1:{port}/api/v1/jobs").json() == []
                break
            except httpx.TransportError:
                time.sleep(0.2)
        else:
            raise AssertionError("the server did not answer")
    finally:
        server.terminate()
        server.wait(timeout=30)


def test_keys_are_shown_once_listed_without_the_key_and_revocable(tmp_path):
    created = json.loads(run(["keys", "create", "ci", "--account", "team", "--scopes", "read,submit", "--json"],
                             tmp_path).stdout)
    assert created["key"].startswith("tf_") and len(created["key"]) > 40 and created["account"] == "team"
    listed = run(["keys", "list", "--json"], tmp_path).stdout
    assert created["key"] not in listed and json.loads(listed)[0]["scopes"] == ["read", "submit"]
    assert created["key"] not in (tmp_path / "cli.db").read_bytes().decode(errors="replace")
    bad = run(["keys", "create", "x", "--scopes", "read,root"], tmp_path, check=False)
    assert bad.returncode == 2 and "subset of read,submit,cancel,admin" in bad.stderr
    run(["keys", "revoke", "ci"], tmp_path)
    assert json.loads(run(["keys", "list", "--json"], tmp_path).stdout)[0]["revoked_at"] is not None


def _session_members(sid: int) -> list[int]:
    """Processes whose session is ``sid`` (the server's own, started with start_new_session)."""
    members = []
    for stat in os.listdir("/proc"):
        if stat.isdigit():
            try:
                fields = open(f"/proc/{stat}/stat").read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[3]) == sid and fields[0] != "Z":  # field 6 of stat: the session id
                members.append(int(stat))
    return members


def test_sigterm_to_an_embedded_server_mid_job_leaves_no_process_behind(tmp_path):
    port = free_port()
    server = subprocess.Popen([*TUNEFORGE, "serve", "--port", str(port)], env=_env(tmp_path),
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                httpx.get(f"{url}/healthz")
                break
            except httpx.TransportError:
                time.sleep(0.2)
        job = httpx.post(f"{url}/api/v1/jobs", json={"device": "replay:gemm_RTX_3090", "trials": 100_000,
                                                     "strategy": "random", "parallelism": 2}, timeout=60).json()
        while httpx.get(f"{url}/api/v1/jobs/{job['id']}").json()["n_trials"] < 5:
            assert time.monotonic() < deadline + 60, "the job never started"
            time.sleep(0.2)
        assert len(_session_members(server.pid)) > 1, "the evaluation pool should be running"
        os.kill(server.pid, signal.SIGTERM)  # the server alone: its children must follow it
        server.wait(timeout=30)
        until = time.monotonic() + 15
        while _session_members(server.pid) and time.monotonic() < until:
            time.sleep(0.2)
        assert _session_members(server.pid) == [], "orphaned processes of the server"
    finally:
        if server.poll() is None:
            server.kill()
        for pid in _session_members(server.pid):
            os.kill(pid, signal.SIGKILL)
