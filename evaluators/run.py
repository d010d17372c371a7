"""The plain functions behind evaluation tasks (Celery and the embedded pool call these).

Arguments and results are JSON-shaped so the same call crosses a process pool or a broker.
"""

from __future__ import annotations

import json
import time
import traceback
from functools import lru_cache
from typing import Any

from tuneforge.core.settings import Settings, get_settings
from tuneforge.core.types import Candidate, Problem, TrialResult, TrialStatus
from tuneforge.evaluators.registry import TargetRef, resolve_device, resolve_target


def _settings(settings: dict[str, Any] | None) -> Settings:
    return _settings_from_json(json.dumps(settings, sort_keys=True, default=str)) if settings is not None else get_settings()


@lru_cache(maxsize=8)
def _settings_from_json(text: str) -> Settings:
    # Building Settings reads the environment (about 0.7 ms); a pool process sees the same few dicts.
    return Settings(**json.loads(text))


def evaluate_candidate(device: str, target: TargetRef, problem: dict[str, Any], candidate: dict[str, Any],
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


def evaluate_baseline(device: str, target: TargetRef, problem: dict[str, Any],
                      settings: dict[str, Any] | None = None) -> dict[str, Any] | None:
    """The reference implementation's result on the device, or None when the device has no baseline."""
    dev = resolve_device(device, _settings(settings))
    result = dev.baseline(resolve_target(target, dev), Problem.from_dict(problem))
    return result.to_dict() if result is not None else None
