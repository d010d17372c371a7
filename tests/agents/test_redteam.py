"""Red team: known tricks are rejected for the right reason; honest Triton kernels are accepted.

Runs on a CPU under the Triton interpreter. Every candidate that gets past the static checks
runs in its own sandbox process; those runs happen concurrently, once per module.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from tuneforge.evaluators.agent_code.sandbox import Limits
from tuneforge.evaluators.agent_code.static_checks import check_source
from tuneforge.evaluators.agent_code.verify import verify_agent_source
from tuneforge.kernels.registry import get_target
from tests.agents.tricks import BOUNDARY, FP16_ACCUMULATOR, GROWN, SANDBOX_ONLY, TRICKS, Trick

KERNELS = Path(__file__).parent / "kernels"
CONFIGS = {"softmax": {"BLOCK_N": 256, "num_warps": 4, "num_stages": 2},
           "rmsnorm": {"BLOCK_C": 32, "BLOCK_S": 64, "num_warps": 4, "num_stages": 2},
           "matmul": {"variant": "tiled", "BLOCK_M": 32, "BLOCK_N": 32, "BLOCK_K": 32, "GROUP_M": 1, "SPLIT_K": 1,
                      "num_warps": 4, "num_stages": 2}}
HONEST = {path.name: path.name.split("_")[0] for path in sorted(KERNELS.glob("*.py"))}
LIMITS = Limits(wall_s=90, cpu_s=90, memory_bytes=4 * 2**30)
LOOP_LIMITS = Limits(wall_s=20, cpu_s=90, memory_bytes=4 * 2**30)


def _config(target_name: str) -> dict:
    target = get_target(target_name)
    config = dict(CONFIGS[target_name])
    assert target.space(target.default_problem()).is_valid(config), target.space(target.default_problem()).violations(config)
    return config


def _verify(source: str, target_name: str, *, static: bool = True, limits: Limits = LIMITS, dtype: str = "fp32"):
    target = get_target(target_name)
    return verify_agent_source(target, target.parse_problem(dtype=dtype), _config(target_name), source, device="cpu",
                               limits=limits, static=static)


@pytest.fixture(scope="module")
def verdicts() -> dict[str, object]:
    """Every sandboxed run of this module, three at a time."""
    jobs = {f"honest:{name}": (lambda n=name, t=t: _verify((KERNELS / n).read_text(), t))
            for name, t in HONEST.items()}
    for trick in TRICKS:
        if not trick.static:
            limits = LOOP_LIMITS if trick.rule == "timeout" else LIMITS
            jobs[trick.name] = lambda tr=trick, lim=limits: _verify(tr.source, tr.target, limits=lim)
    for trick in GROWN:
        if not trick.static:
            jobs[trick.name] = lambda tr=trick: _verify(tr.source, tr.target)
    for trick in SANDBOX_ONLY + BOUNDARY:
        jobs[trick.name] = lambda tr=trick: _verify(tr.source, tr.target, static=False)
    jobs[FP16_ACCUMULATOR.name] = lambda: _verify(FP16_ACCUMULATOR.source, "matmul", dtype="fp16")
    with ThreadPoolExecutor(3) as pool:
        futures = {name: pool.submit(job) for name, job in jobs.items()}
        return {name: f.result() for name, f in futures.items()}


def test_at_least_fifteen_distinct_tricks() -> None:
    assert len(TRICKS) >= 15
    assert len({t.rule for t in TRICKS}) >= 12
    assert len(GROWN) + len(BOUNDARY) + 1 >= 25 and len(HONEST) >= 14


@pytest.mark.parametrize("name", sorted(HONEST))
def test_honest_triton_kernels_pass_static_checks_and_verification(name: str, verdicts) -> None:
    source = (KERNELS / name).read_text()
    assert check_source(source, function=HONEST[name], dtype="fp32") == []
    verdict = verdicts[f"honest:{name}"]
    assert verdict.passed, f"{verdict.rule}: {verdict.message}"
    assert len(verdict.checks) == 3  # two seeds at one shape, one at a second shape
    assert len({tuple(sorted(c["dims"].items())) for c in verdict.checks}) == 2


@pytest.mark.parametrize("trick", [t for t in TRICKS if t.static], ids=lambda t: t.name)
def test_static_tricks_are_rejected_by_their_rule(trick: Trick) -> None:
    violations = check_source(trick.source, function=trick.target, dtype="fp32")
    assert violations, "the static checks let it through"
    assert violations[0].rule == trick.rule, [str(v) for v in violations]
    verdict = _verify(trick.source, trick.target)  # nothing runs: the verdict comes from the static checks
    assert (verdict.status, verdict.rule) == ("invalid", trick.rule)


@pytest.mark.parametrize("trick", [t for t in TRICKS if not t.static], ids=lambda t: t.name)
def test_runtime_tricks_pass_static_checks_and_fail_by_their_rule(trick: Trick, verdicts) -> None:
    assert check_source(trick.source, function=trick.target, dtype="fp32") == []
    verdict = verdicts[trick.name]
    assert not verdict.passed
    assert verdict.rule == trick.rule, f"{verdict.status} {verdict.rule}: {verdict.message}"


@pytest.mark.parametrize("trick", [t for t in GROWN if t.static], ids=lambda t: t.name)
def test_grown_static_tricks_are_rejected_by_their_rule(trick: Trick) -> None:
    violations = check_source(trick.source, function=trick.target, dtype="fp32")
    assert violations and violations[0].rule == trick.rule, [str(v) for v in violations]


@pytest.mark.parametrize("trick", [t for t in GROWN if not t.static] + [FP16_ACCUMULATOR], ids=lambda t: t.name)
def test_grown_runtime_tricks_fail_by_their_rule(trick: Trick, verdicts) -> None:
    dtype = "fp16" if trick is FP16_ACCUMULATOR else "fp32"
    assert check_source(trick.source, function=trick.target, dtype=dtype) == []
    verdict = verdicts[trick.name]
    assert (not verdict.passed) and verdict.rule == trick.rule, f"{verdict.status} {verdict.rule}: {verdict.message}"


@pytest.mark.parametrize("trick", BOUNDARY, ids=lambda t: t.name)
def test_the_checker_is_out_of_the_candidates_reach(trick: Trick, verdicts) -> None:
    verdict = verdicts[trick.name]
    assert (not verdict.passed) and verdict.rule == trick.rule, f"{verdict.status} {verdict.rule}: {verdict.message}"


def test_messages_carry_no_secret_and_no_path(verdicts) -> None:
    import os

    secrets = [v for v in os.environ.values() if len(v) >= 6]
    for name, verdict in verdicts.items():
        assert not any(s in verdict.message for s in secrets), name
        assert "/tmp/tuneforge-sandbox" not in verdict.message and "/work/" not in verdict.message, name


@pytest.mark.parametrize("trick", SANDBOX_ONLY, ids=lambda t: t.name)
def test_sandbox_stops_attacks_even_without_static_checks(trick: Trick, verdicts) -> None:
    verdict = verdicts[trick.name]
    assert (verdict.status, verdict.rule) == ("invalid", trick.rule), verdict.message
    assert not Path("/var/tmp/tuneforge-sandbox-escape").exists()


def test_syntax_errors_are_compile_errors() -> None:
    verdict = _verify("def softmax(x, out=None:\n    return out\n", "softmax")
    assert (verdict.status, verdict.rule) == ("compile_error", "syntax")


def test_fp16_problems_may_use_half_precision() -> None:
    source = (KERNELS / "softmax_one_pass.py").read_text().replace(
        "e / tl.sum(e, 0)", "(e / tl.sum(e, 0)).to(tl.float16)")
    assert check_source(source, function="softmax", dtype="fp16") == []
    assert check_source(source, function="softmax", dtype="fp32")[0].rule == "precision-downgrade"
