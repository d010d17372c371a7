"""The closed-form cycles against real SCALE-Sim runs (GEMM and conv, three array shapes,
all three dataflows, stall-free and finite bandwidth)."""

from __future__ import annotations

import pytest

pytest.importorskip("scalesim")

from tuneforge.evaluators.systolic.validation import compare, validation_cases  # noqa: E402


@pytest.mark.slow
def test_stall_free_compute_cycles_agree_exactly_with_scalesim():
    ideal, finite = validation_cases(quick=True)
    results = compare(ideal + finite, workers=2)
    assert {c.oracle.case.dataflow for c in results} == {"os", "ws", "is"}
    assert {c.oracle.case.layer.filter_h > 1 for c in results} == {True, False}  # conv and GEMM
    mismatches = [(c.oracle.case, c.oracle.compute_cycles, c.model_compute)
                  for c in results if c.oracle.compute_cycles != c.model_compute]
    assert not mismatches
    for c in results[: len(ideal)]:
        assert c.oracle.stall_cycles == 0 and c.model_stall == 0
    assert all(c.speedup > 1 for c in results)
