"""The plain functions behind evaluation tasks (Celery and the embedded pool call these).

Arguments and results are JSON-shaped so the same call crosses a process pool or a broker.
"""

from __future__ import annotations

import time
import traceback
from typing import Any

from core.settings import Settings, get_settings
from core.types import Candidate, Problem, TrialResult, TrialStatus
from evaluators.registry import resolve_device, resolve_target


def _settings(settings: dict[str, Any] | None) -> Settings:
    return Settings(**settings) if settings is not None else get_settings()


def evaluate_candidate(device: str, target: str, problem: dict[str, Any], candidate: dict[str, Any],
                       settings: dict[str, Any] | None = None) -> dict[str, Any]:
    """Evaluate one candidate; any failure of the device code itself is a ``crashed`` result, never lost."""
    started = time.perf_counter()
    try:
        dev = resolve_device(device, _settings(settings))
        result = dev.evaluate(resolve_target(target, dev), Problem.from_dict(problem), Candidate.from_dict(candidate))
    except Exception:
        result = TrialResult.failure(TrialStatus.CRASHED, traceback.format_exc(), device_name=device)
    result.timings.setdefault("wall_s", time.perf_counter() - started)
    return result.to_dict()


def evaluate_baseline(device: str, target: str, problem: dict[str, Any],
                      settings: dict[str, Any] | None = None) -> dict[str, Any] | None:
    """The reference implementation's result on the device, or None when the device has no baseline."""
    dev = resolve_device(device, _settings(settings))
    result = dev.baseline(resolve_target(target, dev), Problem.from_dict(problem))
    return result.to_dict() if result is not None else None
