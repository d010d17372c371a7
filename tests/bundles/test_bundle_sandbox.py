"""A bundle whose kernel or reference reaches for files, sockets or programs is contained by the sandbox and
gets the named verdict. Static checks are off here: the sandbox must hold on its own."""

from __future__ import annotations

import os

import pytest

from tuneforge.api.bundle_files import read_bundle
from tuneforge.evaluators.agent_code.bundle_verify import verify_bundle_source
from tuneforge.kernels.bundle import BundleTarget, parse_bundle
from tests.bundles.test_bundle_jobs import EXAMPLE

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="the sandbox starts children as fresh users: needs root")
CONFIG = {"BLOCK_N": 128, "num_warps": 2, "num_stages": 1}
READ = "open('/etc/hostname').read()"
CONNECT = "__import__('socket').create_connection(('127.0.0.1', 6379), timeout=2)"
EXEC = "__import__('subprocess').run(['/bin/true'])"


def _verdict(kernel_line: str = "", reference_line: str = ""):
    document = read_bundle(str(EXAMPLE))
    shape_line = "    rows, n = x.shape\n"
    kernel = document["kernel"].replace(shape_line, f"    {kernel_line or 'pass'}\n{shape_line}")
    reference = f"def reference(x, s):\n    {reference_line or 'pass'}\n    return x * s\n"
    target = BundleTarget(parse_bundle({**document, "kernel": kernel, "reference": reference}), owner="mallory")
    return verify_bundle_source(target, target.default_problem(), CONFIG, kernel, static=False)


@pytest.mark.parametrize(("where", "line", "rule"), [
    ("reference", READ, "reference-file-read"),
    ("reference", CONNECT, "reference-network"),
    ("reference", EXEC, "reference-process"),
    ("kernel", CONNECT, "network"),
    ("kernel", READ, "file-read"),
])
def test_reaching_out_is_contained_and_named(where: str, line: str, rule: str) -> None:
    verdict = _verdict(**{f"{where}_line": line})
    assert not verdict.passed
    assert verdict.rule == rule, (verdict.rule, verdict.message)


def test_a_wrong_reference_is_what_the_kernel_is_judged_against() -> None:
    """The parent compares with what the sandboxed reference returned: a reference that disagrees with the
    kernel makes the kernel's result a mismatch (the reference defines correctness)."""
    document = read_bundle(str(EXAMPLE))
    target = BundleTarget(parse_bundle({**document, "reference": "def reference(x, s):\n    return x * s + 1\n"}),
                          owner="alice")
    verdict = verify_bundle_source(target, target.default_problem(), CONFIG, document["kernel"])
    assert verdict.rule == "mismatch", verdict.message
