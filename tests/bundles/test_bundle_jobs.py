"""A kernel submitted as a bundle over real HTTP: run in the sandbox, stored under its hash, kept to its account.

The server is uvicorn in a thread of this process with its embedded scheduler: the job's loop runs here, its
evaluations in the local process pool, each candidate and the bundle's reference in sandboxed children. So
this process's modules show whether the API or the loop ever imported the bundle.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from tuneforge.api.app import create_app
from tuneforge.api.bundle_files import read_bundle
from tuneforge.db.store import JobStore
from tuneforge.kernels.bundle import parse_bundle
from tuneforge.core.types import Objective
from tests.api.conftest import Server, make_settings, with_keys
from tests.conftest import finished_job, free_port, serve_in_thread

EXAMPLE = Path(__file__).resolve().parents[2] / "docs" / "examples" / "row_scale_bundle"
pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="bundles run in the sandbox: needs root and bubblewrap")


@pytest.fixture(scope="module")
def running(tmp_path_factory) -> Server:
    settings = make_settings(tmp_path_factory.mktemp("bundles"), eval_timeout_s=120)
    keys = with_keys(settings)
    port = free_port()
    app = create_app(settings.model_copy(update={"api_port": port}), run_jobs=True, allow_open=False)
    with serve_in_thread(app, port, "bundle-test-server") as url:
        yield Server(url, settings, keys)


def _dashboard(server: Server, key_name: str) -> str:
    """The dashboard's leaderboard as a browser signed in with that key sees it."""
    with httpx.Client(base_url=server.url, timeout=30) as browser:
        csrf = re.search(r'name="csrf" value="([^"]+)"', browser.get("/dashboard/login").text).group(1)
        signed_in = browser.post("/dashboard/login", data={"csrf": csrf, "key": server.keys[key_name]})
        assert signed_in.status_code == 303, signed_in.text
        return browser.get("/dashboard").text


def test_example_bundle_is_valid_and_hashes_canonically() -> None:
    document = read_bundle(str(EXAMPLE))
    reordered = dict(reversed(list(document.items())))
    assert parse_bundle(document).sha256 == parse_bundle(reordered).sha256
    assert parse_bundle({**document, "kernel": document["kernel"] + "\n"}).sha256 != parse_bundle(document).sha256


def test_bundle_job_runs_sandboxed_and_stays_its_accounts(running: Server) -> None:
    document = read_bundle(str(EXAMPLE))
    sha256 = parse_bundle(document).sha256
    alice, bob = running.client("alice"), running.client("bob")
    submitted = subprocess.run([str(Path(sys.executable).with_name("tuneforge")), "submit", "--bundle", str(EXAMPLE),
                                "--device", "cpu", "--strategy", "random", "--trials", "2", "--seed", "3", "--json",
                                "--url", running.url],
                               env={**os.environ, "TUNEFORGE_API_KEY": running.keys["alice"]}, capture_output=True,
                               text=True, timeout=120)
    assert submitted.returncode == 0, submitted.stderr
    job = finished_job(alice, json.loads(submitted.stdout)["id"], timeout=400)
    assert job["status"] == "succeeded", job["error"]
    assert job["target"] == f"bundle:alice/row_scale@{sha256[:12]}"
    assert job["bundle_sha256"] == sha256
    trials = alice.get(f"/api/v1/jobs/{job['id']}/trials").json()
    assert [t["status"] for t in trials] == ["ok", "ok"]
    assert {t["bundle_sha256"] for t in trials} == {sha256}
    assert all(t["provenance"] == "verified-only" and "Triton interpreter" in t["log"] for t in trials)
    # Neither the API nor the job's loop (both in this process) imported the kernel or the reference: a module
    # text is imported under the name tuneforge_candidate_<its sha256> (module_loading.load_source).
    imported = {f"tuneforge_candidate_{hashlib.sha256(document[k].encode()).hexdigest()[:16]}"
                for k in ("kernel", "reference")}
    assert not imported & set(sys.modules)

    # Another account: the job and its trials do not exist, its list does not hold it, it cannot name the bundle.
    assert bob.get(f"/api/v1/jobs/{job['id']}").status_code == 404
    assert bob.get(f"/api/v1/jobs/{job['id']}/trials").status_code == 404
    assert job["id"] not in {j["id"] for j in bob.get("/api/v1/jobs").json()}
    assert bob.post("/api/v1/jobs", json={"target": job["target"], "device": "cpu"}).status_code in (400, 422)

    # cpu only verifies; a measured time comes from a GPU, which this machine lacks: the best config a cuda
    # job would publish is stored from one of this job's real trials with a time added.
    store = JobStore(running.settings.database_url)
    stored = store.trials(job["id"])[0]
    timed = dataclasses.replace(stored, values=[0.5], metrics={**stored.metrics, "time_ms": 0.5})
    store.upsert_best(job=store.get_job(job["id"]), trial=timed, objective=Objective("time_ms"),
                      versions={"bundle_sha256": sha256})
    mine = alice.get("/api/v1/best", params={"target": job["target"]}).json()
    assert [(b["target"], b["params"]) for b in mine] == [(job["target"], stored.params)]
    assert bob.get("/api/v1/best", params={"target": job["target"]}).json() == []
    assert job["target"] not in {r["target"] for r in bob.get("/api/v1/leaderboard").json()}
    assert job["target"] in {r["target"] for r in alice.get("/api/v1/leaderboard").json()}
    assert job["target"] in _dashboard(running, "alice") and job["target"] not in _dashboard(running, "bob")
    pulled = alice.get(f"/api/v1/export/{job['target']}")
    assert pulled.status_code == 200, pulled.text
    assert "_row_scale_kernel" in pulled.text and repr(stored.params["BLOCK_N"]) in pulled.text
    assert bob.get(f"/api/v1/export/{job['target']}").status_code == 404


KERNEL = (EXAMPLE / "kernel.py").read_text()


@pytest.mark.parametrize(("change", "status", "names"), [
    ({"kernel": None}, 422, "kernel"),
    ({"kernel": "x" * 30_000}, 422, "kernel"),
    ({"space": {"params": {"BLOCK_N": [64]}, "constraints": ["BLOCK_N.bit_length() > 2"]}}, 400,
     "bundle.space.constraints[0]"),
    ({"inputs": [{"name": "x", "shape": ["rows", "M"]}]}, 400, "bundle.inputs[0].shape[1]"),
    ({"output": {"shape": ["rows - 40", "N"]}}, 400, "bundle.dims"),
    ({"flops": "__import__('os').system('true')"}, 400, "bundle.flops"),
    ({"kernel": KERNEL.replace("return out", "return torch.matmul(x, x)")}, 400, "bundle.kernel"),
    ({"reference": "import os\n\ndef reference(x, s):\n    return x * s\n"}, 400, "bundle.reference"),
    ({"reference": "def expected(x, s):\n    return x * s\n"}, 400, "bundle.reference"),
])
def test_malformed_bundles_are_refused_naming_the_field(running: Server, change: dict, status: int,
                                                        names: str) -> None:
    document = {**read_bundle(str(EXAMPLE)), **change}
    document = {k: v for k, v in document.items() if v is not None}
    answer = running.client("alice").post("/api/v1/jobs", json={"bundle": document, "device": "cpu"})
    assert answer.status_code == status, answer.text
    assert names in answer.text


def test_sim_devices_refuse_a_bundle_and_say_why(running: Server) -> None:
    answer = running.client("alice").post("/api/v1/jobs", json={"bundle": read_bundle(str(EXAMPLE)),
                                                                "device": "sim:h100"})
    assert answer.status_code == 400 and "launch profile" in answer.text and "--device cpu" in answer.text
