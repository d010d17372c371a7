"""What the sandbox process runs: the verification harness on one request.

Imported (with torch, triton and the harness) before the guard is installed and before the
candidate's module is loaded, so the functions the harness holds are the real ones.
"""

from __future__ import annotations

from typing import Any

from tuneforge.evaluators.verify.harness import run_request
from tuneforge.evaluators.verify.plan import VerifyRequest


def verify(payload: dict[str, Any]) -> dict[str, Any]:
    return run_request(VerifyRequest.from_dict(payload)).to_dict()
