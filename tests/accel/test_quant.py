"""Quantization layouts on real trained digits models: accuracy measured, cost modelled."""

from __future__ import annotations

import itertools

import pytest

from tuneforge.core.types import Candidate, Provenance
from tuneforge.evaluators.registry import resolve_device
from tuneforge.kernels.quant.models import MODELS, _cache_path
from tuneforge.kernels.quant.quantize import group_segments
from tuneforge.kernels.registry import get_target


@pytest.fixture(scope="module")
def quant(request):
    from tuneforge.core.settings import Settings

    device = resolve_device("sim:systolic", Settings())
    target = get_target("quant")
    return device, target, target.parse_problem(extra={"model": "digits-mlp"})


def _layout(target, problem, bits, **rest):
    names = [n for n in target.space(problem).names if n.startswith("bits_")]
    return {**{n: bits for n in names}, **rest}


def test_uniform_int8_baseline_is_measured_and_within_budget(quant):
    device, target, problem = quant
    base = device.baseline(target, problem)
    assert base.ok and base.provenance == Provenance.MODELLED
    assert base.metrics["float_accuracy"] > 0.95  # the model really learned the digits
    assert base.metrics["accuracy_drop_rel"] <= 0.01
    assert "accuracy" in base.log and "measured" in base.log
    assert _cache_path(MODELS["digits-mlp"]).is_file()  # trained once, then read from disk


def test_a_layout_within_budget_beats_uniform_int8_on_energy(quant):
    device, target, problem = quant
    base = device.baseline(target, problem).metrics
    found = []
    for bits, group, sym in itertools.product((4, 3), (64, "channel"), (True, False)):
        params = _layout(target, problem, bits, group_size=group, symmetric=sym, scale_dtype="fp16", aligned=True)
        m = device.evaluate(target, problem, Candidate(params)).metrics
        if m["accuracy_drop_rel"] <= 0.01 and m["energy_uj"] < base["energy_uj"]:
            found.append((params, m))
    assert found, "no low-bit layout stayed inside the 1% accuracy budget"
    assert target.default_constraints == ("accuracy_drop_rel<=0.01",)


def test_accuracy_is_measured_not_assumed(quant):
    device, target, problem = quant
    int8 = device.baseline(target, problem).metrics["accuracy"]
    crushed = device.evaluate(target, problem, Candidate(
        _layout(target, problem, 2, group_size="channel", symmetric=True, scale_dtype="e8m0", aligned=True)))
    assert crushed.metrics["accuracy"] < int8 - 0.05  # 2-bit per-channel weights hurt, and we see it


def test_groups_restart_at_tiles_only_when_aligned():
    assert group_segments(100, 64, 48, aligned=False) == [(0, 64), (64, 100)]
    assert group_segments(100, 64, 48, aligned=True) == [(0, 48), (48, 96), (96, 100)]
    assert group_segments(100, 0, 48, aligned=True) == [(0, 100)]


def test_codesign_searches_hardware_and_layout_together(quant):
    device, _, _ = quant
    target = get_target("codesign")
    problem = target.parse_problem(extra={"model": "digits-mlp"})
    base = target.baseline_params(problem)
    assert target.space(problem).is_valid(base)
    small = device.evaluate(target, problem, Candidate({**base, "rows": 16, "cols": 16}))
    large = device.evaluate(target, problem, Candidate({**base, "rows": 96, "cols": 96, "ifmap_kb": 256,
                                                               "filter_kb": 256}))
    assert small.ok and large.ok
    assert small.metrics["area_mm2"] < large.metrics["area_mm2"]
    assert small.metrics["latency_ms"] > large.metrics["latency_ms"]
