"""sim:systolic as a device: registry, invalid candidates, the accel target on whole workloads."""

from __future__ import annotations

import random
import time

from tuneforge.core.types import Candidate, Provenance, TrialStatus
from tuneforge.evaluators.devices.systolic import SystolicDevice
from tuneforge.evaluators.registry import resolve_device
from tuneforge.kernels.registry import all_targets, get_target


def test_device_resolves_only_its_own_spec(settings):
    assert SystolicDevice.accepts("sim:systolic")
    assert not SystolicDevice.accepts("sim:h100")
    assert isinstance(resolve_device("sim:systolic", settings), SystolicDevice)


def test_targets_are_registered_and_import_without_torch():
    import subprocess
    import sys

    code = ("import sys; from tuneforge.kernels.registry import all_targets; all_targets(); "
            "import tuneforge.evaluators.devices.systolic; assert 'torch' not in sys.modules, 'torch imported'")
    subprocess.run([sys.executable, "-c", code], check=True)
    assert {"accel", "quant", "codesign"} <= set(all_targets())


def test_accel_scores_resnet18_designs_in_milliseconds(settings):
    device, target = resolve_device("sim:systolic", settings), get_target("accel")
    problem = target.parse_problem(extra={"workload": "resnet18"})
    device.check_target(target, problem)
    rng, space = random.Random(0), target.space(problem)
    candidates = [Candidate(space.sample_valid(rng)) for _ in range(50)]
    start = time.perf_counter()
    results = [device.evaluate(target, problem, c) for c in candidates]
    per_trial = (time.perf_counter() - start) / len(candidates)
    assert per_trial < 0.02
    assert all(r.ok and r.provenance == Provenance.MODELLED for r in results)
    for r in results:
        assert {"latency_ms", "energy_uj", "area_mm2"} <= set(r.metrics)
    # Different designs really differ: the space is not flat.
    assert len({round(r.metrics["latency_ms"], 9) for r in results}) > 10


def test_illegal_designs_are_invalid_results_not_errors(settings):
    device, target = resolve_device("sim:systolic", settings), get_target("accel")
    problem = target.default_problem()
    good = target.space(problem).sample_valid(random.Random(1))
    for bad in ({**good, "rows": 7}, {**good, "rows": 256, "cols": 256},
                {**good, "rows": 256, "cols": 8}, {k: v for k, v in good.items() if k != "dataflow"}):
        result = device.evaluate(target, problem, Candidate(bad))
        assert result.status == TrialStatus.INVALID and result.log


def test_bigger_arrays_trade_area_for_latency(settings):
    device, target = resolve_device("sim:systolic", settings), get_target("accel")
    problem = target.default_problem()
    base = {"dataflow": "ws", "ifmap_kb": 512, "filter_kb": 512, "ofmap_kb": 256, "bandwidth": 32, "word_bits": 8}
    small = device.evaluate(target, problem, Candidate({**base, "rows": 16, "cols": 16})).metrics
    large = device.evaluate(target, problem, Candidate({**base, "rows": 128, "cols": 128})).metrics
    assert large["latency_ms"] < small["latency_ms"] and large["area_mm2"] > small["area_mm2"]
