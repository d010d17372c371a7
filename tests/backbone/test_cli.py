"""The ``tuneforge`` command line as a user runs it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import SPACES_DIR

TUNEFORGE = [sys.executable, "-m", "tuneforge"]


def run_cli(args, tmp_path: Path, check=True):
    env = {**os.environ, "TUNEFORGE_DATABASE_URL": f"sqlite:///{tmp_path / 'cli.db'}",
           "TUNEFORGE_SPACES_DIR": str(SPACES_DIR)}
    env.pop("TUNEFORGE_BROKER_URL", None)
    return subprocess.run([*TUNEFORGE, *args], capture_output=True, text=True, env=env, check=check, timeout=300)


def test_tune_replay_file_prints_json_with_best_config(tmp_path):
    out = run_cli(["tune", "--device", f"replay:{SPACES_DIR / 'gemm_RTX_3090.json.gz'}", "--trials", "100",
                   "--strategy", "tpe", "--json"], tmp_path)
    result = json.loads(out.stdout)
    assert result["status"] == "succeeded" and result["n_trials"] == 100 and result["target"] == "Xgemm"
    assert set(result["best"]["params"]) >= {"MWG", "NWG", "VWM"}
    assert result["best"]["metrics"]["time_ms"] >= 5.657  # no faster than the best config in the space
    best = json.loads(run_cli(["best", "Xgemm", "--json"], tmp_path).stdout)
    assert best[0]["value"] == result["best"]["metrics"]["time_ms"]


def test_tune_takes_strategy_options(tmp_path):
    out = run_cli(["tune", "--device", "replay:convolution_A100", "--trials", "5", "--option", "restarts=true",
                   "--option", "transfer=false", "--json"], tmp_path)
    assert json.loads(out.stdout)["status"] == "succeeded"
    [job] = json.loads(run_cli(["jobs", "--json"], tmp_path).stdout)
    assert job["options"] == {"restarts": True, "transfer": False}


def test_tune_prints_progress_best_and_label(tmp_path):
    out = run_cli(["tune", "--device", "replay:convolution_A100", "--trials", "20"], tmp_path)
    assert "best time_ms" in out.stdout and "replayed" in out.stdout and "best config" in out.stdout
    assert "20/20" in out.stderr  # the progress bar


@pytest.mark.parametrize("args, fix", [
    (["tune", "--device", "replay:gemm_RTX_3090", "--trials", "-1"], "at least 1"),
    (["tune", "--device", "replay:none_such"], "no replay space 'none_such' is available"),
    (["tune", "--device", "quantum"], "unknown device"),
    (["tune", "--device", "replay:gemm_RTX_3090", "--strategy", "guess"], "unknown strategy"),
    (["tune", "nonexistent", "--device", "sim"], "unknown device"),
    (["tune", "--device", "replay:gemm_RTX_3090", "--shape", "M=x"], "NAME=INT"),
    (["tune", "--device", "replay:gemm_RTX_3090", "--option", "restart=true"], "unknown option 'restart'"),
    (["tune", "--device", "replay:gemm_RTX_3090", "--option", "transfer=3"], "option 'transfer'"),
    (["tune", "--device", "replay:gemm_RTX_3090", "--option", "transfer"], "write KEY=VALUE"),
])
def test_bad_input_is_one_line_error_and_writes_nothing(tmp_path, args, fix):
    out = run_cli(args, tmp_path, check=False)
    assert out.returncode == 2
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error:") and fix in lines[0], out.stderr
    jobs = json.loads(run_cli(["jobs", "--json"], tmp_path).stdout)
    assert jobs == []
