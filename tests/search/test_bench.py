"""A tiny ``tuneforge bench search``: one space, few seeds, small budgets."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from tuneforge.api.cli import app
from tuneforge.bench.search.replay_run import Trace
from tuneforge.bench.search.stats import RunKey, summarize
from tuneforge.evaluators.devices.replay import load_recorded_space
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
    assert "replayed measured spaces (no GPU ran)" in result.output and "no GPU ran" in summary["measurements"]


def test_bench_rejects_an_unknown_kernel_tuner_strategy():
    result = CliRunner().invoke(app, ["bench", "search", "--kt", "no_such_strategy", "--seeds", "1"])
    assert result.exit_code != 0


def test_transfer_mode_tunes_the_sibling_gpu_first_and_kernel_tuner_runs_can_be_reused(tmp_path):
    spaces = [str(SPACES_DIR / f"gemm_{gpu}.json.gz") for gpu in ("RTX_2080_Ti", "RTX_3090")]
    args = ["bench", "search", *spaces, "--seeds", "2", "--budgets", "4,8", "--workers", "1"]
    first = CliRunner().invoke(app, [*args, "--strategies", "bandit", "--kt", "random_sample",
                                     "--mode", "cold,transfer", "--out", str(tmp_path / "a")])
    assert first.exit_code == 0, first.output
    summary = json.loads((tmp_path / "a" / "bench_search.json").read_text())
    assert {(r["space"], r["method"], r["mode"]) for r in summary["rows"]} == {
        (s, m, mode) for s in ("gemm_RTX_2080_Ti", "gemm_RTX_3090")
        for m, mode in (("tuneforge:bandit", "cold"), ("tuneforge:bandit", "transfer"),
                        ("kernel_tuner:random_sample", "cold"))}
    for row in summary["rows"]:
        for level in ("0.90", "0.95"):
            reach = row["to_quality"][level]
            assert reach["trials"] is None or 1 <= reach["trials"] <= 8
            assert (reach["trials"] is None) == (reach["seconds"] is None)
    assert "to 0.95" in first.output
    assert {(v["space"], v["mode"]) for v in summary["versus"]} == {
        (s, mode) for s in ("gemm_RTX_2080_Ti", "gemm_RTX_3090") for mode in ("cold", "transfer")}
    assert "against the best Kernel Tuner strategy" in first.output

    # A reused Kernel Tuner run is read, not rerun: doctor one and the table follows the file.
    traces_file = tmp_path / "a" / "traces.json"
    traces = json.loads(traces_file.read_text())
    best = load_recorded_space(Path(spaces[1])).best_time_ms
    for t in traces["traces"]:
        if t["method"] == "kernel_tuner:random_sample" and t["space"] == "gemm_RTX_3090":
            t["times_ms"][0] = best
    traces_file.write_text(json.dumps(traces))
    second = CliRunner().invoke(app, [*args, "--strategies", "", "--kt", "random_sample", "--reuse", str(traces_file),
                                      "--out", str(tmp_path / "b")])
    assert second.exit_code == 0, second.output
    rows = json.loads((tmp_path / "b" / "bench_search.json").read_text())["rows"]
    [kt] = [r for r in rows if r["method"] == "kernel_tuner:random_sample" and r["space"] == "gemm_RTX_3090"]
    assert kt["fraction"]["4"]["median"] == 1.0 and kt["to_quality"]["0.95"]["trials"] == 1


def test_reuse_refuses_a_file_without_the_runs_asked_for(tmp_path):
    bad = tmp_path / "traces.json"
    bad.write_text(json.dumps({"traces": []}))
    result = CliRunner().invoke(app, ["bench", "search", str(SPACES_DIR / "pnpoly_RTX_3090.json.gz"), "--seeds", "1",
                                      "--budgets", "5", "--strategies", "", "--kt", "random_sample",
                                      "--reuse", str(bad)])
    assert result.exit_code != 0 and "holds none of the Kernel Tuner runs" in result.output


def _runs(space: str, method: str, times: list[list[float]]) -> dict:
    return {RunKey(space, method, 1, seed): Trace(times_ms=list(t)) for seed, t in enumerate(times)}


def test_versus_says_behind_only_when_the_seeds_show_it():
    best = {"s": 1.0}
    rival = _runs("s", "kernel_tuner:random_sample", [[1.0, 1.0]] * 8)
    slower = _runs("s", "tuneforge:bandit", [[2.0, 2.0]] * 8)
    [row] = summarize(rival | slower, best, [1, 2])["versus"]
    assert row["budgets"]["2"]["verdict"] == "behind" and row["budgets"]["2"]["p_behind"] < 0.01
    assert row["budgets"]["2"]["rival"] == "kernel_tuner:random_sample"

    # Half the seeds as good as the rival, half worse: its median is lower, but 8 seeds cannot tell.
    mixed = _runs("s", "tuneforge:bandit", [[1.0, 1.0]] * 4 + [[1.1, 1.1]] * 4)
    noisy_rival = _runs("s", "kernel_tuner:random_sample", [[1.0, 1.0]] * 5 + [[1.2, 1.2]] * 3)
    [row] = summarize(noisy_rival | mixed, best, [2])["versus"]
    assert row["budgets"]["2"]["verdict"] == "behind within noise"

    # A later trial that reaches the optimum makes it level at that budget and not before.
    late = _runs("s", "tuneforge:bandit", [[2.0, 1.0]] * 8)
    [row] = summarize(rival | late, best, [1, 2])["versus"]
    assert [row["budgets"][b]["verdict"] for b in ("1", "2")] == ["behind", "level"]
