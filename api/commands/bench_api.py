"""``tuneforge bench api``: latency and error rate of the REST API under a bounded load on loopback."""

from __future__ import annotations

import typer
from rich.table import Table

from tuneforge.api.console import out


def register(app: typer.Typer, bench: typer.Typer) -> None:
    @bench.command("api")
    def bench_api(clients: int = typer.Option(200, min=1, max=1000, help="concurrent clients"),
                  seconds: float = typer.Option(60, min=1, max=600, help="how long the load lasts"),
                  submit_share: float = typer.Option(0.1, min=0, max=1, help="share of requests that submit a job")
                  ) -> None:
        """Start a server on loopback with a fresh database and key, load it, print p50/p99 and errors."""
        from tuneforge.bench.api_load import percentile, run_load
        from tuneforge.core.settings import get_settings

        tally, wall_s = run_load(clients, seconds, submit_share, get_settings().spaces_dir)
        table = Table("requests", "count", "p50 ms", "p99 ms",
                      title=f"{clients} clients for {wall_s:.0f} s on loopback (embedded mode, SQLite)")
        for kind, values in sorted(tally.latencies_ms.items()):
            table.add_row(kind, str(len(values)), f"{percentile(values, 50):.1f}", f"{percentile(values, 99):.1f}")
        every = [v for values in tally.latencies_ms.values() for v in values]
        if every:
            table.add_row("all", str(len(every)), f"{percentile(every, 50):.1f}", f"{percentile(every, 99):.1f}")
        out.print(table)
        out.print(f"throughput {tally.total / wall_s:.0f} requests/s; statuses {dict(sorted(tally.statuses.items()))}; "
                  f"transport errors {tally.transport_errors}; error rate {tally.errors / max(tally.total, 1):.2%} "
                  "(5xx, unexpected 4xx and transport errors; 429 is a quota answer, counted apart)")
