"""replay:NAME opens cache files inside the spaces directory (or an allow-listed one) and nothing else;
every refusal reads the same, and refused requests leave nothing behind in the device cache."""

from __future__ import annotations

import os
import shutil
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from tuneforge.evaluators import registry
from tuneforge.evaluators.devices.replay import load_recorded_space
from tuneforge.search.pool import pool_for
from tests.api.conftest import make_settings, serve, with_keys
from tests.conftest import SPACES_DIR

GEMM_FILE = SPACES_DIR / "gemm_RTX_3090.json.gz"


@pytest.fixture(scope="module")
def replay_server(tmp_path_factory):
    root = tmp_path_factory.mktemp("replay")
    allowed, outside = root / "allowed", root / "outside"
    allowed.mkdir()
    outside.mkdir()
    shutil.copy(GEMM_FILE, outside / "copy.json.gz")  # a valid cache file, but not in an allowed dir
    (allowed / "escape.json.gz").symlink_to(outside / "copy.json.gz")
    with open(allowed / "big.json", "wb") as big:  # over the cap (sparse: takes no disk)
        big.truncate(64 * 2**20 + 1)
    settings = make_settings(root, replay_dirs=[allowed], device_cache_size=5)
    keys = with_keys(settings)
    for url in serve(settings):
        yield url, keys, outside


ATTACKS = ["/etc/passwd", "../../../../etc/passwd", "/proc/self/environ", "../" * 12 + "etc/shadow",
           "does_not_exist", "escape", "escape.json.gz", "big.json", "/etc", "gemm_RTX_3090\x00.txt",
           "%2e%2e/%2e%2e/etc/passwd", "x" * 150]


def test_files_outside_the_allowed_dirs_are_refused_alike(replay_server):
    import httpx

    url, keys, outside = replay_server
    attacks = [*ATTACKS, str(outside / "copy.json.gz"), str(outside / "copy")]
    with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {keys['alice']}"}, timeout=60) as alice:
        details = set()
        for arg in attacks:
            response = alice.post("/api/v1/jobs", json={"device": f"replay:{arg}"[:160], "trials": 3})
            assert response.status_code in (400, 422), arg
            if response.status_code == 400:
                detail = response.json()["detail"]
                details.add(detail.replace(repr(arg), "NAME").replace("'that name'", "NAME"))
                for leak in ("root:", "/etc/", str(os.getpid()), str(SPACES_DIR), str(outside), "No such file",
                             "Permission", "gzip", "JSON", "bytes"):
                    assert leak not in detail, (arg, detail)
        assert len(details) == 1, details
        assert alice.get("/api/v1/jobs").json() == []


def test_the_device_cache_stays_bounded_after_many_spellings(replay_server):
    import httpx

    url, keys, _ = replay_server
    with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {keys['root']}"}, timeout=60) as root:
        for spelling in ["gemm_RTX_3090", "gemm_RTX_3090.json.gz"]:
            assert root.post("/api/v1/jobs", json={"device": f"replay:{spelling}", "trials": 2}).status_code == 201
        # Paths are not names: the API refuses them by schema before anything is resolved.
        assert root.post("/api/v1/jobs", json={"device": f"replay:{GEMM_FILE}"}).status_code == 422
        jobs = root.get("/api/v1/jobs").json()
        assert {j["device"] for j in jobs} == {"replay:gemm_RTX_3090"}  # one name however it was spelled
        cached = dict(registry._instances)
        for i in range(60):
            assert root.post("/api/v1/jobs", json={"device": f"replay:nothing{i}"}).status_code == 400
        assert dict(registry._instances) == cached  # refusals cache nothing


def test_the_device_cache_is_a_bounded_lru_however_a_file_is_spelled(tmp_path):
    settings = make_settings(tmp_path, device_cache_size=5)
    spellings = [f"replay:{'./' * i}gemm_RTX_3090" for i in range(40)] + [f"replay:{GEMM_FILE}"]
    devices = [registry.resolve_device(s, settings) for s in spellings]
    assert len([k for k in registry._instances if k[1] == settings.database_url]) <= 5
    assert {d.spec for d in devices} == {"replay:gemm_RTX_3090"}
    assert len({id(d.recorded) for d in devices}) == 1  # the file itself is loaded once, keyed by its real path


def test_jobs_that_start_together_build_their_device_and_its_pool_once(tmp_path):
    """A scheduler starts many job loops at once in threads: the first builds the device (its replay
    file parsed) and the space's pool of configs; the others wait for them instead of each building
    its own copy."""
    settings = make_settings(tmp_path)
    load_recorded_space.cache_clear()
    start = threading.Barrier(8)

    def job_starts(_):
        start.wait()
        device = registry.resolve_device("replay:gemm_RTX_2080_Ti", settings)
        target = device.own_target()
        return device, pool_for(target.space(target.default_problem()))

    with ThreadPoolExecutor(8) as threads:
        started = list(threads.map(job_starts, range(8)))
    assert len({id(device) for device, _ in started}) == 1
    assert load_recorded_space.cache_info().misses == 1
    assert len({id(pool) for _, pool in started}) == 1
