"""`tuneforge pull` and `GET /api/v1/export/{target}`: a tuned matmul that runs where tuneforge is absent."""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
import sysconfig
import textwrap
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tuneforge.api.app import create_app
from tuneforge.api.export.module import exportable, render_module
from tuneforge.api.submit import submit_job
from tuneforge.db.session import ensure_schema
from tuneforge.kernels.registry import all_targets
from tests.export.seeding import seed_best
from tuneforge.worker.jobs import run_job_embedded

SMALL = dict(variant="splitk", BLOCK_M=32, BLOCK_N=16, BLOCK_K=16, GROUP_M=1, SPLIT_K=2, num_warps=4, num_stages=2)
LARGE = dict(variant="grouped", BLOCK_M=128, BLOCK_N=256, BLOCK_K=64, GROUP_M=8, SPLIT_K=1, num_warps=8,
             num_stages=3)
BF16 = dict(variant="tiled", BLOCK_M=16, BLOCK_N=32, BLOCK_K=32, GROUP_M=1, SPLIT_K=1, num_warps=2, num_stages=1)


@pytest.fixture
def tuned(settings):
    """Best matmul configs as tuning jobs leave them: two measured on a GPU, one modelled H100 result.
    The standalone run happens on the CPU, so its dispatch falls back on dtype and shape."""
    ensure_schema(settings.database_url)
    seed_best(settings, target="matmul", dims={"M": 64, "N": 64, "K": 64}, dtype="fp32", device="cuda",
              device_name="NVIDIA H100 80GB HBM3", params=SMALL, time_ms=4.0, provenance="measured",
              baseline_ms=2.0)
    seed_best(settings, target="matmul", dims={"M": 64, "N": 64, "K": 64}, dtype="bf16", device="cuda",
              device_name="NVIDIA H100 80GB HBM3", params=BF16, time_ms=6.0, provenance="measured")
    seed_best(settings, target="matmul", dims={"M": 4096, "N": 4096, "K": 4096}, dtype="fp16", device="sim:h100",
              device_name="NVIDIA H100 SXM (modelled)", params=LARGE, time_ms=0.2, provenance="modelled",
              baseline_ms=0.25, extra_metrics={"fraction_of_roofline": 0.71})
    return settings


def _pull(settings, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "TUNEFORGE_DATABASE_URL": settings.database_url}
    return subprocess.run([sys.executable, "-m", "tuneforge", "pull", *args], env=env, capture_output=True,
                          text=True, timeout=60, cwd=Path(__file__).parents[2])


# Runs with only torch and triton importable: -I -S drops the environment, cwd and site hooks (the
# editable tuneforge install among them); site-packages comes back as a bare path.
STANDALONE = textwrap.dedent("""
    import importlib.util, json, sys
    sys.path[:0] = [SITE_PACKAGES, MODULE_DIR]
    assert importlib.util.find_spec("tuneforge") is None
    import torch
    import matmul_tuned as tuned
    torch.manual_seed(0)
    a, b = torch.randn(45, 70), torch.randn(70, 37)
    ah, bh = a.to(torch.bfloat16), b.to(torch.bfloat16)

    def error(out, ref):  # largest error relative to the output's scale
        return ((out.float() - ref).abs().max() / ref.abs().max()).item()

    report = {
        "chosen": tuned.TUNED.config_for([a, b, None], {}),
        "chosen_bf16": tuned.TUNED.config_for([ah, bh, None], {}),
        "error": error(tuned.matmul(a, b), a @ b),
        "error_bf16": error(tuned.matmul(ah, bh), ah.float() @ bh.float()),
        "error_override": error(tuned.matmul(a, b, variant="tiled", GROUP_M=1, SPLIT_K=1), a @ b),
        "modules": sorted(m.split(".")[0] for m in sys.modules if m.split(".")[0] == "tuneforge"),
    }
    print(json.dumps(report))
""")


def _run_standalone(module: Path, cwd: Path) -> dict:
    script = STANDALONE.replace("SITE_PACKAGES", repr(sysconfig.get_paths()["purelib"])).replace(
        "MODULE_DIR", repr(str(module.parent)))
    run = subprocess.run([sys.executable, "-I", "-S", "-c", script], cwd=cwd, capture_output=True, text=True,
                         timeout=120, env={"TRITON_INTERPRET": "1", "PATH": os.environ["PATH"]})
    assert run.returncode == 0, run.stderr
    report = json.loads(run.stdout)
    assert report["modules"] == []  # nothing of tuneforge was imported
    assert report["error"] < 1e-5 and report["error_override"] < 1e-5
    assert report["error_bf16"] < 1e-2  # bf16 keeps 8 bits of mantissa
    return report


def test_pulled_matmul_runs_without_tuneforge_and_matches_torch(tuned, tmp_path):
    module = tmp_path / "vendored" / "matmul_tuned.py"
    result = _pull(tuned, "matmul", "--device", "cuda", "-o", str(module))
    assert result.returncode == 0, result.stderr
    assert "2 tuned config(s): 2 measured" in result.stderr
    assert "sim:h100" not in module.read_text()  # --device keeps one device's configs
    report = _run_standalone(module, tmp_path)
    assert report["chosen"] == SMALL and report["chosen_bf16"] == BF16


def test_module_from_a_real_tuning_job_dispatches_to_its_best_config(settings, tmp_path):
    ensure_schema(settings.database_url)
    job_id = submit_job(settings, {"target": "matmul", "device": "sim:h100", "shape": "M=64,N=64,K=64",
                                   "dtype": "fp32", "trials": 12, "strategy": "random", "seed": 3})
    job = run_job_embedded(job_id, settings)
    module = tmp_path / "matmul_tuned.py"
    result = _pull(settings, "matmul", "--device", "sim:h100", "-o", str(module))
    assert result.returncode == 0 and "1 tuned config(s): 1 modelled" in result.stderr
    assert "modelled, not measured" in module.read_text()
    report = _run_standalone(module, tmp_path)
    assert report["chosen"] == job.result["best"]["params"]


def test_module_header_says_which_numbers_are_modelled(tuned):
    with TestClient(create_app(tuned, run_jobs=False)) as client:
        response = client.get("/api/v1/export/matmul")
    assert response.status_code == 200
    text = response.text
    compile(text, "matmul_tuned.py", "exec")
    assert "M=4096,N=4096,K=4096 fp16 on sim:h100 (NVIDIA H100 SXM (modelled)): 0.2 time_ms, modelled, not measured" \
        in text
    assert "M=64,N=64,K=64 fp32 on cuda (NVIDIA H100 80GB HBM3): 4 time_ms, measured" in text
    assert "torch 2" in text and "triton 3" in text  # the versions it was tuned with
    assert response.headers["content-disposition"].endswith('filename="matmul_tuned.py"')


def test_jsonl_export_has_one_record_per_best_config(tuned):
    with TestClient(create_app(tuned, run_jobs=False)) as client:
        response = client.get("/api/v1/export/matmul", params={"format": "jsonl"})
        unknown = client.get("/api/v1/export/softmax", params={"format": "jsonl"})
        bad = client.get("/api/v1/export/matmul", params={"format": "xml"})
    records = [json.loads(line) for line in response.text.splitlines()]
    assert len(records) == 3
    modelled = next(r for r in records if r["device"] == "sim:h100")
    assert modelled["provenance"] == "modelled" and modelled["params"] == LARGE
    assert modelled["speedup_vs_baseline"] == pytest.approx(1.25) and modelled["fraction_of_roofline"] == 0.71
    assert modelled["dims"] == {"M": 4096, "N": 4096, "K": 4096} and modelled["versions"]["triton"]
    assert unknown.status_code == 404 and "tuneforge tune softmax" in unknown.json()["detail"]
    assert bad.status_code == 422 and "jsonl" in json.dumps(bad.json()["detail"])


def test_cli_jsonl_to_stdout(tuned):
    result = _pull(tuned, "matmul", "--device", "sim:h100", "--format", "jsonl")
    assert result.returncode == 0, result.stderr
    (record,) = [json.loads(line) for line in result.stdout.splitlines()]
    assert record["provenance"] == "modelled" and record["device_name"] == "NVIDIA H100 SXM (modelled)"


def test_replay_target_exports_jsonl_only(settings):
    ensure_schema(settings.database_url)
    seed_best(settings, target="Xgemm", family="replay", dims={"n0": 4096, "n1": 4096}, dtype=None,
              device="replay:gemm_RTX_3090", device_name="NVIDIA GeForce RTX 3090 (replayed)",
              params={"MWG": 64}, time_ms=6.9, provenance="replayed")
    result = _pull(settings, "Xgemm")
    assert result.returncode == 2 and "use format jsonl" in result.stderr
    assert json.loads(_pull(settings, "Xgemm", "--format", "jsonl").stdout)["provenance"] == "replayed"


@pytest.mark.parametrize("name", [n for n, t in all_targets().items() if exportable(t)])
def test_every_triton_target_exports_a_module_with_its_launch_signature(name):
    target = all_targets()[name]
    tree = ast.parse(render_module(target, []))
    launch = next(n for n in ast.parse(target.impl_source()).body
                  if isinstance(n, ast.FunctionDef) and n.name == target.function_name)
    wrapper = [n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == target.function_name][-1]
    assert [a.arg for a in wrapper.args.args] == [a.arg for a in launch.args.args]
    assert wrapper.args.kwarg.arg == "config"
    imported = {a.name.split(".")[0] for n in ast.walk(tree) if isinstance(n, (ast.Import, ast.ImportFrom))
                for a in n.names} | {n.module.split(".")[0] for n in ast.walk(tree)
                                     if isinstance(n, ast.ImportFrom) and n.module}
    assert imported - sys.stdlib_module_names <= {"torch", "triton"}
