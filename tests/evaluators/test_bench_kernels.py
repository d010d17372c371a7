"""``tuneforge bench kernels`` on the modelled GPUs, and its refusal without a GPU for cuda."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from tuneforge.api.cli import app
from tuneforge.evaluators.devices.triton_cuda import gpu_visible


def test_bench_kernels_reports_modelled_kernel_torch_and_roofline():
    result = CliRunner().invoke(app, ["bench", "kernels", "--device", "sim:h100", "-t", "softmax", "-t", "rmsnorm",
                                      "--top", "2", "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["provenance"] == "modelled" and "modelled" in report["device"]
    assert [row["target"] for row in report["rows"]] == ["softmax", "rmsnorm"]
    for row in report["rows"]:
        assert row["provenance"] == row["baseline_provenance"] == "modelled"
        assert row["roofline_ms"] <= row["time_ms"] and row["roofline_ms"] <= row["torch_ms"]
        assert row["speedup_vs_torch"] == pytest.approx(row["torch_ms"] / row["time_ms"])


def test_bench_kernels_table_says_modelled():
    result = CliRunner().invoke(app, ["bench", "kernels", "-t", "layernorm", "--top", "1"],
                                env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert "modelled by tuneforge's analytical GPU model, not measured" in result.stdout


@pytest.mark.skipif(gpu_visible(), reason="checks the refusal on machines without a GPU")
def test_bench_kernels_on_cuda_without_a_gpu_says_so():
    result = CliRunner().invoke(app, ["bench", "kernels", "--device", "cuda", "-t", "matmul"])
    assert result.exit_code != 0 and "no NVIDIA GPU" in result.output
