"""A tiny ``tuneforge bench search``: one space, few seeds, small budgets."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from tuneforge.api.cli import app
from tests.conftest import SPACES_DIR


def test_tiny_bench_compares_tuneforge_with_kernel_tuner(tmp_path):
    space = SPACES_DIR / "pnpoly_RTX_3090.json.gz"
    result = CliRunner().invoke(app, ["bench", "search", str(space), "--seeds", "2", "--budgets", "5,15",
                                      "--strategies", "bo", "--kt", "random_sample", "--parallel", "1,4",
                                      "--refill", "batch,async",
                                      "--workers", "1", "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    summary = json.loads((tmp_path / "bench_search.json").read_text())
    methods = {(r["method"], r["parallel"], r["refill"]) for r in summary["rows"]}
    assert methods == {("tuneforge:bo", 1, "batch"), ("tuneforge:bo", 4, "batch"), ("tuneforge:bo", 4, "async"),
                       ("kernel_tuner:random_sample", 1, "batch")}
    assert {(s["parallel"], s["refill"]) for s in summary["batch_speedup"]} == {(4, "batch"), (4, "async")}
    for row in summary["rows"]:
        assert row["seeds"] == 2
        early, late = row["fraction"]["5"], row["fraction"]["15"]
        assert 0 < early["median"] <= late["median"] <= 1  # more trials never find less
        assert early["q1"] <= early["median"] <= early["q3"]
    assert (tmp_path / "bench_search.png").stat().st_size > 0
    assert "fraction of optimum" in result.output


def test_bench_rejects_an_unknown_kernel_tuner_strategy():
    result = CliRunner().invoke(app, ["bench", "search", "--kt", "no_such_strategy", "--seeds", "1"])
    assert result.exit_code != 0
