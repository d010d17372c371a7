"""Results in and out in the peers' formats: Kernel Tuner caches imported as measured trials with
provenance and written back, best configs as triton.Config lists."""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tuneforge.api.export.service import export_target
from tuneforge.core.errors import UserInputError
from tuneforge.db.store import JobStore
from tuneforge.evaluators.devices.replay import load_recorded_space

from ..conftest import SPACES_DIR
from .seeding import seed_best

PNPOLY = SPACES_DIR / "pnpoly_RTX_3090.json.gz"


def _cli(settings, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "TUNEFORGE_DATABASE_URL": settings.database_url, "TUNEFORGE_SPACES_DIR": str(SPACES_DIR)}
    return subprocess.run([sys.executable, "-m", "tuneforge", *args], capture_output=True, text=True, env=env,
                          timeout=300)


@pytest.mark.slow
def test_kernel_tuner_cache_round_trip(settings, tmp_path: Path) -> None:
    done = _cli(settings, "import", "kernel-tuner", str(PNPOLY))
    assert done.returncode == 0, done.stderr
    with gzip.open(PNPOLY, "rt") as fh:
        raw = json.load(fh)["cache"]
    times = [e["time"] for e in raw.values() if isinstance(e["time"], (int, float))]

    store = JobStore(settings.database_url)
    [job] = store.list_jobs()
    assert (job.status, job.strategy, job.n_trials) == ("succeeded", "import:kernel-tuner", len(raw))
    origin = job.options["imported_from"]
    assert origin["sha256"] == hashlib.sha256(PNPOLY.read_bytes()).hexdigest()
    assert origin["device_name"] == "NVIDIA GeForce RTX 3090"
    statuses = job.result["statuses"]
    assert statuses["ok"] == len(times) and sum(statuses.values()) == len(raw)  # error entries are invalid trials
    [best] = store.best_configs(target=job.target)
    assert best.value == min(times) and best.provenance == "measured"
    assert best.versions["imported"]["file"].endswith("pnpoly_RTX_3090.json.gz")

    exported = tmp_path / "pnpoly_again.json"
    pulled = _cli(settings, "pull", job.target, "--format", "kt", "-o", str(exported))
    assert pulled.returncode == 0, pulled.stderr
    again = load_recorded_space(exported)  # what tuneforge's replay device (and Kernel Tuner) read
    assert len(again.entries) == len(times) and again.best_time_ms == min(times)
    assert again.device_name == "NVIDIA GeForce RTX 3090"


def test_bad_kernel_tuner_file_writes_nothing(settings, tmp_path: Path) -> None:
    bad = tmp_path / "broken.json"
    bad.write_text(json.dumps({"cache": {}}))
    done = _cli(settings, "import", "kernel-tuner", str(bad))
    assert done.returncode != 0 and "is not a readable Kernel Tuner cache file" in done.stderr + done.stdout
    assert JobStore(settings.database_url).list_jobs() == []


def test_triton_config_lists_per_shape_bucket(settings) -> None:
    for n, ms, provenance, device in ((1024, 0.5, "measured", "cuda"), (1024, 0.4, "modelled", "sim:h100"),
                                      (4096, 1.5, "measured", "cuda")):
        seed_best(settings, target="softmax", dims={"rows": 64, "N": n}, dtype="fp32", device=device,
                  device_name=device, params={"BLOCK_N": n, "num_warps": 4, "num_stages": 2}, time_ms=ms,
                  provenance=provenance)
    text = export_target(JobStore(settings.database_url), "softmax", fmt="triton").text
    names: dict = {}
    exec(compile(text, "softmax_configs.py", "exec"), names)  # noqa: S102 - our own output, checked as Python
    configs = names["CONFIGS"]
    assert list(configs) == ["rows=64,N=1024 fp32", "rows=64,N=4096 fp32"]
    first = configs["rows=64,N=1024 fp32"]
    assert len(first) == 2 and first[0].kwargs == {"BLOCK_N": 1024} and (first[0].num_warps, first[0].num_stages) == (4, 2)
    assert "# cuda (cuda): 0.5 time_ms, measured" in text  # measured listed before modelled
    assert len(names["ALL_CONFIGS"]) == 2
    with pytest.raises(UserInputError, match="one problem on one device"):
        export_target(JobStore(settings.database_url), "softmax", fmt="kt")
