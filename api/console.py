"""Printing for the CLI: one-line errors, labelled numbers, tables."""

from __future__ import annotations

import json
import sys
from typing import Any, NoReturn

from rich.console import Console

out = Console(highlight=False)
err = Console(stderr=True, highlight=False)

_LABELS = {"measured": "measured", "replayed": "replayed from a recorded measurement",
           "modelled": "modelled, not measured", "verified-only": "verified only, not timed"}


def fail(message: str, code: int = 2) -> NoReturn:
    err.print(f"[red]error:[/red] {message}", soft_wrap=True)
    raise SystemExit(code)


def print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, indent=2, default=str) + "\n")


def provenance_label(provenance: str) -> str:
    return _LABELS.get(provenance, provenance)


def format_params(params: dict[str, Any]) -> str:
    return ", ".join(f"{k}={v}" for k, v in params.items())


def format_metrics(metrics: dict[str, float]) -> str:
    return ", ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}" for k, v in metrics.items())
