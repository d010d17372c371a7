"""How numbers, times and provenance read on the dashboard's pages (Jinja2 filters)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

PROVENANCE_TITLES = {
    "measured": "timed on real hardware",
    "replayed": "read back from a recorded measurement, not measured here",
    "modelled": "predicted by a model or simulator, not measured",
    "verified-only": "checked for correctness, not timed",
}


def number(value: Any, digits: int = 4) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:.{digits}g}"
    return str(value)


def when(value: datetime | str | None) -> str:
    """A timestamp (or its ISO text, as JSON records hold it) as ``2025-01-31 14:05`` (UTC, as stored)."""
    if not value:
        return "–"
    stamp = value if isinstance(value, datetime) else datetime.fromisoformat(value)
    return stamp.strftime("%Y-%m-%d %H:%M")


def params(config: dict[str, Any] | None) -> str:
    return ", ".join(f"{k}={v}" for k, v in (config or {}).items())


def register(environment) -> None:
    environment.filters.update(number=number, when=when, params=params)
    environment.globals["PROVENANCE_TITLES"] = PROVENANCE_TITLES
