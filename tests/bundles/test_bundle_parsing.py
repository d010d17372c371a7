"""A bundle's data is parsed and evaluated without running anything it holds; bad data names its field."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tuneforge.api.bundle_files import read_bundle
from tuneforge.core.errors import UserInputError
from tuneforge.core.expressions import parse_expression
from tuneforge.kernels.bundle import BundleTarget, parse_bundle, visible_to
from tests.bundles.test_bundle_jobs import EXAMPLE


@pytest.mark.parametrize("text", ["().__class__", "open('x')", "[1][0]", "lambda: 1", "'a' * 3", "x.y",
                                  "__import__('os')", "N if True else 1", "min(N, key=abs)", "a\x00"])
def test_only_arithmetic_over_named_numbers_parses(text: str) -> None:
    with pytest.raises(UserInputError, match="^bundle.flops: "):
        parse_expression(text, {"N"}, what="bundle.flops")


@pytest.mark.parametrize("text", ["2 ** 10 ** 10", "(-8) ** 0.5", "N // 0", "next_pow2(N) ** 64 * 10", "log2(0)",
                                  "min()"])
def test_evaluation_that_would_blow_up_is_a_user_error(text: str) -> None:
    expression = parse_expression(text, {"N"}, what="bundle.flops")
    with pytest.raises(UserInputError):
        expression({"N": 1000})


def test_expressions_compute_shapes_constraints_and_sizes() -> None:
    document = read_bundle(str(EXAMPLE))
    target = BundleTarget(parse_bundle({**document, "output": {"shape": ["cdiv(rows, 2) * 2", "N"]}}), owner="a")
    problem = target.parse_problem({"rows": 7, "N": 300}, "fp16")
    assert target.output_shape(problem.dims) == (8, 300)
    assert target.input_shapes(problem.dims) == [(7, 300), (300,)]
    assert target.bytes(problem) == (2 * 7 * 300 + 300) * 2
    space = target.space(problem)
    assert all(c["BLOCK_N"] >= 32 * c["num_warps"] and c["BLOCK_N"] <= 1024 for c in space.valid_configs())
    assert space.violations({"BLOCK_N": 64, "num_warps": 4, "num_stages": 1}) == ["BLOCK_N >= 32 * num_warps"]


@pytest.mark.parametrize(("change", "field"), [
    ({"name": "Row-Scale"}, "bundle.name"),
    ({"dims": {"dtype_bytes": 4}}, "bundle.dims.dtype_bytes"),
    ({"dims": {f"d{i}": 2 for i in range(9)}}, "bundle.dims"),
    ({"space": {"params": {"rows": [1]}}}, "bundle.space.params"),
    ({"space": {"params": {f"p{i}": list(range(64)) for i in range(4)}}}, "bundle.space.params"),
    ({"space": {"params": {"BLOCK_N": [64, 64]}}}, "bundle.space.params.BLOCK_N"),
    ({"space": {"params": {"BLOCK_N": [64]}, "constraints": ["BLOCK_N > 64"]}}, "bundle.space.constraints"),
    ({"inputs": [{"name": "x", "shape": ["rows", "N"]}, {"name": "x", "shape": ["N"]}]}, "bundle.inputs"),
    ({"output": {"shape": ["rows * N * N * N * N"]}}, "bundle.dims"),
    ({"check_shapes": [{"rows": 3}, {"rows": 5, "N": 7}]}, "bundle.check_shapes[0]"),
    ({"dtypes": ["fp64"]}, "bundle.dtypes"),
    ({"extra": 1}, "bundle.extra"),
])
def test_bad_data_names_the_field(change: dict, field: str) -> None:
    with pytest.raises(UserInputError) as raised:
        parse_bundle({**read_bundle(str(EXAMPLE)), **change})
    assert str(raised.value).startswith(field), str(raised.value)


def test_bundle_results_are_their_accounts() -> None:
    name = "bundle:alice/row_scale@0123456789ab"
    assert visible_to(name, "alice") and visible_to(name, None)  # None: an admin key, or an open server
    assert not visible_to(name, "bob") and not visible_to("bundle:alicia/x@0", "alice")
    assert visible_to("matmul", "bob")


def test_tune_reads_a_single_file_bundle_and_names_what_to_change(tmp_path) -> None:
    document = read_bundle(str(EXAMPLE))
    document["space"] = {"params": {"BLOCK_N": [64]}, "constraints": ["BLOCK_N.bit_length() > 2"]}
    path = tmp_path / "row_scale.json"
    path.write_text(json.dumps(document))
    run = subprocess.run([str(Path(sys.executable).with_name("tuneforge")), "tune", "--bundle", str(path),
                          "--device", "cpu", "--trials", "1"], capture_output=True, text=True, timeout=120,
                         env={**os.environ, "TUNEFORGE_DATABASE_URL": f"sqlite:///{tmp_path / 'tf.db'}"})
    assert run.returncode != 0
    assert "bundle.space.constraints[0]" in run.stderr and "calls something other than" in run.stderr
