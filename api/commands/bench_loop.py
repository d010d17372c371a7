"""``tuneforge bench loop``: the tuning loop's own cost per trial, embedded and distributed."""

from __future__ import annotations

from typing import Optional

import typer
from rich.table import Table

from tuneforge.api.console import fail, out
from tuneforge.core.settings import get_settings


def register(app: typer.Typer, bench: typer.Typer) -> None:
    @bench.command("loop")
    def bench_loop(trials: str = typer.Option("100,1000", help="comma-separated trial budgets"),
                   database: Optional[str] = typer.Option(None, help="PostgreSQL URL for the distributed run"),
                   broker: Optional[str] = typer.Option(None, help="Redis URL for the distributed run")) -> None:
        """Median per-trial overhead of the loop on a replay device (evaluation costs ~0)."""
        from tuneforge.bench.loop import distributed, embedded

        budgets = [int(t) for t in trials.split(",")]
        settings = get_settings()
        if bool(database) != bool(broker):
            fail("give both --database postgresql://... and --broker redis://... for the distributed run")
        rows = [embedded(n, settings) for n in budgets]
        if database and broker:
            remote = settings.model_copy(update={"database_url": database, "broker_url": broker})
            rows += [distributed(n, remote) for n in budgets]
        table = Table("mode", "trials", "median ms/trial", "p90 ms/trial", "wall s",
                      title="Loop overhead per trial (replay device: evaluation ~0)")
        for r in rows:
            table.add_row(r.mode, str(r.trials), f"{r.median_ms:.2f}", f"{r.p90_ms:.2f}", f"{r.total_s:.1f}")
        out.print(table)
