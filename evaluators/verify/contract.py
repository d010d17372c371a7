"""A target's numeric contract, checked on the ``tt.dot`` lines of a kernel's compiled TTIR.

Surer than reading the source: the IR shows the precision a dot actually runs at, whatever
constexpr, default or helper chose it.
"""

from __future__ import annotations

import re

from tuneforge.core.types import TrialStatus
from tuneforge.evaluators.verify.plan import RuleFailed

_RESULT = re.compile(r"->\s*tensor<[^>]*?x(f16|bf16|f32|f64|i32|f8\w*)\b")
_TF32 = re.compile(r"inputPrecision\s*=\s*tf32(?!x3)\b")
_WIDTH = {"f8": 8, "f16": 16, "bf16": 16, "f32": 32, "f64": 64, "i32": 32}
_CONTRACT_WIDTH = {"fp16": 16, "bf16": 16, "fp32": 32}


def check_contract(kernel: str, dots: list[str], *, dtype: str, accumulator: str, allow_tf32: bool) -> None:
    """Raise RuleFailed for the first dot below the contract."""
    for line in dots:
        if dtype == "fp32" and not allow_tf32 and _TF32.search(line):
            raise RuleFailed(TrialStatus.INVALID, "contract-tf32",
                             f"kernel {kernel} multiplies fp32 inputs as TF32 (10-bit mantissa); pass "
                             "input_precision=\"ieee\" to tl.dot")
        found = _RESULT.search(line)
        if found:
            kind = found.group(1)
            width = _WIDTH.get(kind, _WIDTH["f8"] if kind.startswith("f8") else 32)
            if width < _CONTRACT_WIDTH[accumulator]:
                raise RuleFailed(TrialStatus.INVALID, "contract-accumulator",
                                 f"kernel {kernel} accumulates a dot product in {kind}; the target's contract is "
                                 f"{accumulator} accumulation (drop out_dtype or use tl.float32)")
