"""``tuneforge pull``: write a target's tuned kernel module (or its best configs as JSON lines)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Optional

import typer

from tuneforge.api.console import err


def register(app: typer.Typer, bench: typer.Typer) -> None:
    app.command()(pull)


def pull(target: str = typer.Argument(..., help="target name, e.g. matmul"),
         device: Optional[str] = typer.Option(None, "--device", "-d", help="only configs tuned on this device "
                                              "(omit for every device)"),
         output: Optional[Path] = typer.Option(None, "--output", "-o", help="file to write; stdout when omitted"),
         fmt: str = typer.Option("py", "--format", help="py: a self-contained module (torch + triton only); "
                                 "jsonl: one best config per line; triton: triton.Config lists per shape "
                                 "bucket; kt: a Kernel Tuner cache of the best config's job")) -> None:
    """Export tuned configs: a Python module to vendor into another project, or JSON lines."""
    from tuneforge.api.export.service import export_target
    from tuneforge.core.settings import get_settings
    from tuneforge.db.store import JobStore

    result = export_target(JobStore(get_settings().database_url), target, device=device, fmt=fmt)
    if output is None:
        sys.stdout.write(result.text)
    else:
        output.parent.mkdir(parents=True, exist_ok=True)
        output.write_text(result.text)
    err.print(f"{'wrote ' + str(output) if output else target}: {result.summary()}", soft_wrap=True)
