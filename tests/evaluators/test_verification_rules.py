"""The verification harness catches planted wrong kernels for the right reason and survives bad ones."""

from __future__ import annotations

import pytest

from tuneforge.core.types import Problem, TrialStatus
from tuneforge.evaluators.verify import VerdictCache, WorkerPool, verify_candidate
from tuneforge.evaluators.verify.cache import verdict_key
from tuneforge.evaluators.verify.plan import build_request
from tuneforge.kernels.registry import get_target
from tests.evaluators.planted import PLANTED

CONFIGS = {
    "matmul": dict(variant="grouped", BLOCK_M=32, BLOCK_N=32, BLOCK_K=16, GROUP_M=4, SPLIT_K=1, num_warps=4,
                   num_stages=2),
    "softmax": dict(BLOCK_N=128, num_warps=4, num_stages=2),
    "layernorm": dict(BLOCK_N=256, num_warps=4, num_stages=2),
    "rmsnorm": dict(BLOCK_C=32, BLOCK_S=16, num_warps=4, num_stages=2),
    "quant_matmul": dict(bits=4, group_size=32, pack_dim="K", BLOCK_M=16, BLOCK_N=32, BLOCK_K=32, num_warps=4,
                         num_stages=2),
}


@pytest.fixture(scope="module")
def pool():
    pool = WorkerPool("cpu")
    yield pool
    pool.close()


def _problem(name: str) -> Problem:
    target = get_target(name)
    return target.parse_problem(dtype="fp32") if "fp32" in target.dtypes else target.default_problem()


@pytest.mark.parametrize("case", sorted(PLANTED))
def test_planted_wrong_kernel_is_caught_by_its_rule(pool, case):
    name, make_source, rule = PLANTED[case]
    target = get_target(name)
    verdict = verify_candidate(target, _problem(name), CONFIGS[name], pool=pool, cache=None, timeout_s=300,
                               small=True, source=make_source())
    expected = TrialStatus.COMPILE_ERROR if rule == "import" else TrialStatus.WRONG_RESULT
    assert (verdict.status, verdict.rule) == (expected, rule), verdict.message


@pytest.mark.parametrize("name", sorted(CONFIGS))
def test_unmodified_source_passes(pool, name):
    target = get_target(name)
    verdict = verify_candidate(target, _problem(name), CONFIGS[name], pool=pool, cache=None, timeout_s=300,
                               small=True, source=target.impl_source())
    assert verdict.passed, verdict.message


def test_checks_use_fresh_seeds_two_shapes_and_three_distributions():
    import random

    target = get_target("matmul")
    problem = target.default_problem()
    first = build_request(target, problem, CONFIGS["matmul"], device="cpu", small=True, rng=random.Random(1))
    second = build_request(target, problem, CONFIGS["matmul"], device="cpu", small=True, rng=random.Random(2))
    assert len({tuple(sorted(c.dims.items())) for c in first.checks}) == 2
    assert {c.distribution for c in first.checks} == {"normal", "offset", "wide"}
    assert [c.seed for c in first.checks] != [c.seed for c in second.checks]
    # The cache key ignores the seeds (the verdict is about code and config), not the config.
    code = target.impl_source()
    assert verdict_key(first, code) == verdict_key(second, code)
    other = build_request(target, problem, {**CONFIGS["matmul"], "BLOCK_M": 64}, device="cpu", small=True,
                          rng=random.Random(1))
    assert verdict_key(other, code) != verdict_key(first, code)


def test_verdicts_are_cached_by_code_and_config(pool, tmp_path):
    target = get_target("softmax")
    cache = VerdictCache(tmp_path)
    kwargs = dict(pool=pool, cache=cache, timeout_s=300, small=True)
    first = verify_candidate(target, _problem("softmax"), CONFIGS["softmax"], **kwargs)
    again = verify_candidate(target, _problem("softmax"), CONFIGS["softmax"], **kwargs)
    assert first.passed and not first.cached and again.cached
    from_disk = verify_candidate(target, _problem("softmax"), CONFIGS["softmax"], **{**kwargs,
                                 "cache": VerdictCache(tmp_path)})
    assert from_disk.cached
    wrong = PLANTED["softmax returns zeros"][1]()
    assert not verify_candidate(target, _problem("softmax"), CONFIGS["softmax"], source=wrong, **kwargs).passed


def test_hanging_candidate_times_out_and_the_pool_recovers(pool):
    target = get_target("softmax")
    hang = target.impl_source() + "\nimport time\n_real = softmax\ndef softmax(*a, **k):\n    time.sleep(60)\n"
    verdict = verify_candidate(target, _problem("softmax"), CONFIGS["softmax"], pool=pool, cache=None,
                               timeout_s=3, small=True, source=hang)
    assert verdict.status == TrialStatus.TIMEOUT
    after = verify_candidate(target, _problem("softmax"), CONFIGS["softmax"], pool=pool, cache=None,
                             timeout_s=300, small=True)
    assert after.passed


def test_crashing_candidate_is_crashed_and_the_pool_recovers(pool):
    target = get_target("softmax")
    crash = target.impl_source() + "\nimport os\ndef softmax(*a, **k):\n    os._exit(3)\n"
    verdict = verify_candidate(target, _problem("softmax"), CONFIGS["softmax"], pool=pool, cache=None,
                               timeout_s=300, small=True, source=crash)
    assert verdict.status == TrialStatus.CRASHED and "code 3" in verdict.message
    assert verify_candidate(target, _problem("softmax"), CONFIGS["softmax"], pool=pool, cache=None,
                            timeout_s=300, small=True).passed


def test_a_time_faster_than_light_is_rejected_and_never_a_best_config(monkeypatch):
    """End to end through the cuda device: the candidate's timing claims the impossible (a patched
    timer on a GPU host; it cannot be caused on a CPU machine, so the verdict is given)."""
    from tuneforge.core.settings import Settings
    from tuneforge.core.types import Candidate, Objective
    from tuneforge.evaluators.devices import triton_cuda
    from tuneforge.evaluators.verify.plan import Verdict

    target = get_target("matmul")
    problem = target.parse_problem({"M": 4096, "N": 4096, "K": 4096}, "fp16")
    bound_ms = 2 * 4096**3 / 989e12 * 1e3  # an H100's dense fp16 peak: no kernel is faster
    claimed = Verdict(status="ok", checks=[{"dims": {}, "distribution": "normal", "max_err_rel": 0.0}],
                      timing={"time_ms": bound_ms / 10, "device_name": "NVIDIA H100 80GB HBM3"})
    honest = Verdict(status="ok", checks=claimed.checks, timing={**claimed.timing, "time_ms": bound_ms * 3})
    device = triton_cuda.TritonCudaDevice("cuda", Settings())
    monkeypatch.setattr(triton_cuda, "gpu_visible", lambda: True)
    monkeypatch.setattr(device, "_verify", lambda *a, **k: claimed)
    too_fast = device.evaluate(target, problem, Candidate(CONFIGS["matmul"], source="agent code"))
    assert too_fast.status == TrialStatus.WRONG_RESULT and "speed-of-light" in too_fast.log
    assert too_fast.objective_values([Objective("time_ms")]) is None
    monkeypatch.setattr(device, "_verify", lambda *a, **k: honest)
    plausible = device.evaluate(target, problem, Candidate(CONFIGS["matmul"], source="agent code"))
    assert plausible.status == TrialStatus.OK and plausible.objective_values([Objective("time_ms")]) is not None
