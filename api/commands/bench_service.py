"""``tuneforge bench service``: overhead against Optuna RDB, throughput against the ideal, scaling."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Optional

import typer
from rich.table import Table

from tuneforge.api.console import fail, out, print_json
from tuneforge.core.settings import get_settings


def register(app: typer.Typer, bench: typer.Typer) -> None:
    @bench.command("service")
    def bench_service(database: Optional[str] = typer.Option(None, help="PostgreSQL URL (a database for the bench)"),
                      broker: Optional[str] = typer.Option(None, help="Redis URL; its INFO commandstats are read, "
                                                           "so give a Redis nobody else uses"),
                      trials: int = typer.Option(1000, help="trials of the overhead comparison"),
                      jobs: int = typer.Option(8, help="concurrent jobs in the throughput runs"),
                      parallel: int = typer.Option(2, help="candidates in flight per job"),
                      job_trials: int = typer.Option(100, help="trials per job in the throughput runs (with "
                                                     "fewer, the jobs' start-up weighs more)"),
                      workers: str = typer.Option("1,2,4", help="worker processes (one slot each) to compare"),
                      eval_ms: float = typer.Option(50.0, help="mean evaluation time the replay device sleeps"),
                      as_json: bool = typer.Option(False, "--json")) -> None:
        """Per-trial overhead vs Optuna RDBStorage + TPE on SQLite and PostgreSQL; throughput of K jobs x P
        parallel on W workers vs the ideal; scaling; Redis commands and DB transactions per trial."""
        from tuneforge.bench.service import overhead, report, sleep_scale_for, throughput

        if not (database and broker):
            fail("give --database postgresql://... and --broker redis://... (a Redis nobody else uses)")
        settings = get_settings().model_copy(update={"database_url": database, "broker_url": broker})
        with tempfile.TemporaryDirectory() as tmp:
            overheads = [overhead(settings, url, label, trials, strategy) for strategy in ("tpe", "random")
                         for url, label in ((f"sqlite:///{Path(tmp) / f'{strategy}.db'}", "sqlite"),
                                            (database, "postgresql"))]
        scale = sleep_scale_for(settings, eval_ms)
        runs = [throughput(settings, workers=int(w), jobs=jobs, parallel=parallel, trials=job_trials,
                           sleep_scale=scale) for w in workers.split(",")]
        result = report(overheads, runs)
        if as_json:
            return print_json(result)
        table = Table("database", "sampler", "tuneforge ms/trial", "Optuna RDB ms/trial", "Optuna / tuneforge",
                      "of which in the sampler (tuneforge, Optuna)", "outside the sampler: Optuna / tuneforge",
                      title=f"Per-trial cost, {trials} trials, evaluation ~0, the same sampler on both sides "
                            f"({result['device']})")
        for o in overheads:
            table.add_row(o.database, o.strategy, f"{o.tuneforge_ms:.2f}", f"{o.optuna_rdb_ms:.2f}", f"{o.ratio:.1f}x",
                          f"{o.tuneforge_sampler_ms:.1f}, {o.optuna_rdb_sampler_ms:.1f}",
                          f"{o.optuna_rdb_around_sampler_ms:.1f} / {o.tuneforge_around_sampler_ms:.1f} = "
                          f"{o.ratio_around_sampler:.1f}x")
        out.print(table)
        table = Table("workers", "trials", "mean eval ms", "trials/s", "ideal/s", "of ideal", "Redis cmd/trial",
                      "DB xact/trial", title=f"{jobs} jobs x {parallel} parallel, one slot per worker")
        for r in runs:
            table.add_row(str(r.workers), str(r.trials), f"{r.mean_eval_ms:.1f}", f"{r.trials_per_s:.1f}",
                          f"{r.ideal_per_s:.1f}", f"{r.fraction_of_ideal:.0%}", f"{r.redis_commands_per_trial:.1f}",
                          f"{r.db_transactions_per_trial:.1f}")
        out.print(table)
        for key, value in result.items():
            if key.startswith("speedup_"):
                out.print(f"{key}: {value}x")
