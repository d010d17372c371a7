"""Verdicts cached by what decides them: the code, the config and the check shapes (not the seeds).

Only deterministic outcomes are kept (passed, wrong result, compile error, invalid); a
timeout or a crash may not repeat and is always retried.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

from tuneforge.core.types import TrialStatus
from tuneforge.evaluators.verify.plan import Verdict, VerifyRequest

_CACHEABLE = {TrialStatus.OK, TrialStatus.WRONG_RESULT, TrialStatus.COMPILE_ERROR, TrialStatus.INVALID}


def verdict_key(request: VerifyRequest, code: str) -> str:
    """``code`` is the text that runs: the candidate's source, or the target's implementation module."""
    identity = {"code": code, "function": request.function, "kernel": request.kernel_kwargs,
                "reference": request.reference_kwargs, "device": request.device,
                "shapes": [(c.dims, c.dtype, c.distribution) for c in request.checks],
                "tolerance": (request.rtol, request.atol)}
    return hashlib.sha256(json.dumps(identity, sort_keys=True, default=str).encode()).hexdigest()


class VerdictCache:
    """In memory, and on disk under ``directory`` when one is given (shared by processes)."""

    def __init__(self, directory: Path | None = None) -> None:
        self.directory = directory
        self._memory: dict[str, Verdict] = {}

    def get(self, key: str) -> Verdict | None:
        if key in self._memory:
            return self._memory[key]
        if self.directory is not None:
            path = self.directory / f"{key}.json"
            try:
                verdict = Verdict.from_dict(json.loads(path.read_text()))
            except (OSError, ValueError, TypeError):
                return None
            self._memory[key] = verdict
            return verdict
        return None

    def put(self, key: str, verdict: Verdict) -> None:
        if verdict.status not in _CACHEABLE:
            return
        self._memory[key] = verdict
        if self.directory is not None:
            self.directory.mkdir(parents=True, exist_ok=True)
            tmp = self.directory / f"{key}.{os.getpid()}.tmp"
            tmp.write_text(json.dumps(verdict.to_dict()))
            tmp.replace(self.directory / f"{key}.json")
