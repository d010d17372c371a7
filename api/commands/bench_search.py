"""``tuneforge bench search``: tuneforge's strategies against Kernel Tuner's on measured spaces."""

from __future__ import annotations

import json
import os
import tempfile
import time
from pathlib import Path
from typing import Optional

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.console import Console
from rich.table import Table

from tuneforge.api.console import err, fail, out, print_json
from tuneforge.core.settings import get_settings

DEFAULT_STRATEGIES = "bandit,bo"
DEFAULT_KT = "random_sample,genetic_algorithm,simulated_annealing,greedy_ils,pso,diff_evo"
REFILLS = ("batch", "async")


def _csv(text: str) -> list[str]:
    return [t.strip() for t in text.split(",") if t.strip()]


def _ints(text: str, option: str) -> list[int]:
    try:
        values = [int(t) for t in _csv(text)]
    except ValueError:
        fail(f"{option} takes comma-separated integers, e.g. 1,4; got {text!r}")
    if not values or min(values) < 1:
        fail(f"{option} needs positive integers; got {text!r}")
    return values


def register(app: typer.Typer, bench: typer.Typer) -> None:
    @bench.command("search")
    def search(spaces: Optional[list[Path]] = typer.Argument(None, help="Kernel Tuner cache files (.json or "
                                                             ".json.gz); default: every file in the spaces folder"),
               strategies: str = typer.Option(DEFAULT_STRATEGIES, help="tuneforge strategies, comma-separated"),
               kt: str = typer.Option(DEFAULT_KT, "--kt", help="Kernel Tuner strategies, comma-separated "
                                      "('' to skip Kernel Tuner)"),
               seeds: int = typer.Option(25, help="runs per space and method"),
               budgets: str = typer.Option("20,50,100,200", help="trial budgets reported"),
               parallel: str = typer.Option("1", help="simulated parallel workers for tuneforge, e.g. 1,4"),
               refill: str = typer.Option("batch", help="how parallel workers get candidates: 'batch' (one per "
                                          "worker, the next batch when all are done), 'async' (one as each "
                                          "worker frees up), or both: batch,async"),
               workers: int = typer.Option(os.cpu_count() or 1, help="processes running seeds at once"),
               out_dir: Optional[Path] = typer.Option(None, "--out", help="write bench_search.json and "
                                                      "bench_search.png here"),
               as_json: bool = typer.Option(False, "--json", help="print the JSON table, no progress bars")) -> None:
        """Replay measured GPU tuning spaces; report median and quartiles of the fraction of optimum."""
        from tuneforge.search.bench import kt_run
        from tuneforge.search.bench.plot import plot_curves
        from tuneforge.search.bench.runner import best_times, plan, run_all, space_name
        from tuneforge.search.bench.stats import summarize
        from tuneforge.search.strategies import get_strategy

        settings = get_settings()
        paths = [p.resolve() for p in (spaces or sorted(settings.spaces_dir.glob("*.json.gz")))]
        missing = [str(p) for p in paths if not p.is_file()]
        if not paths or missing:
            fail(f"no such cache file(s): {', '.join(missing)}" if missing else
                 f"no tuning spaces in {settings.spaces_dir}; pass files or set TUNEFORGE_SPACES_DIR")
        tf_strategies = _csv(strategies)
        for name in tf_strategies:
            get_strategy(name)  # unknown names fail here, before any run
        kt_strategies = _csv(kt)
        unknown = [s for s in kt_strategies if s not in kt_run.STRATEGIES]
        if unknown:
            fail(f"unknown Kernel Tuner strategies {unknown}; use some of {', '.join(kt_run.STRATEGIES)}")
        if kt_strategies and not kt_run.available():
            fail("Kernel Tuner is not installed: `pip install kernel_tuner`, or pass --kt '' to skip it")
        budget_list = sorted(set(_ints(budgets, "--budgets")))
        parallels = sorted(set(_ints(parallel, "--parallel")))
        refills = tuple(dict.fromkeys(_csv(refill)))
        if not refills or set(refills) - set(REFILLS):
            fail(f"--refill takes some of {', '.join(REFILLS)}; got {refill!r}")
        if seeds < 1:
            fail("--seeds must be at least 1")

        started = time.perf_counter()
        with tempfile.TemporaryDirectory(prefix="tuneforge-bench-") as scratch:
            specs = plan(paths, tf_strategies, kt_strategies, seeds, max(budget_list), parallels, Path(scratch),
                         refills)
            progress = Progress(TextColumn("{task.description:<28}"), BarColumn(), MofNCompleteColumn(),
                                TimeElapsedColumn(), console=err, disable=as_json)
            with progress:
                bars = {space_name(p): progress.add_task(space_name(p), total=sum(s.path == p for s in specs))
                        for p in paths}
                traces = run_all(specs, workers, on_done=lambda s: progress.advance(bars[space_name(s.path)]))
        summary = summarize(traces, best_times(paths), budget_list)
        summary["runtime_s"] = round(time.perf_counter() - started, 1)
        summary["command"] = {"spaces": [str(p) for p in paths], "strategies": tf_strategies,
                              "kernel_tuner": kt_strategies, "seeds": seeds, "parallel": parallels,
                              "refill": list(refills)}
        if out_dir is not None:
            out_dir.mkdir(parents=True, exist_ok=True)
            (out_dir / "bench_search.json").write_text(json.dumps(summary, indent=1))
            plot_curves(summary, out_dir / "bench_search.png")
        if as_json:
            print_json({k: v for k, v in summary.items() if k != "rows"} |
                       {"rows": [_without_curves(r) for r in summary["rows"]]})
            return
        _print_tables(summary)
        if out_dir is not None:
            out.print(f"wrote {out_dir / 'bench_search.json'} and {out_dir / 'bench_search.png'}")


def _without_curves(row: dict) -> dict:
    return {k: v for k, v in row.items() if not k.endswith("_curve")}


def _workers(row: dict) -> str:
    return str(row["parallel"]) if row["parallel"] == 1 else f"{row['parallel']} {row['refill']}"


def _cell(q: dict) -> str:
    return f"{q['median']:.3f} ({q['q1']:.3f}-{q['q3']:.3f})"


def _print_tables(summary: dict) -> None:
    budgets = [str(b) for b in summary["budgets"]]
    table = Table(title="fraction of optimum: median (quartiles) over seeds", show_lines=False)
    for col in ("space", "method", "workers", *budgets):
        table.add_column(col, justify="right" if col in budgets else "left")
    last = None
    for row in [*summary["rows"], *summary["overall"]]:
        best_at = {b: max(r["fraction"][b]["median"] for r in [*summary["rows"], *summary["overall"]]
                          if r["space"] == row["space"] and r["parallel"] == 1) for b in budgets}
        cells = [("[bold green]" if row["parallel"] == 1 and row["fraction"][b]["median"] >= best_at[b] else "")
                 + _cell(row["fraction"][b]) for b in budgets]
        table.add_row(row["space"] if row["space"] != last else "", row["method"], _workers(row), *cells,
                      end_section=False)
        last = row["space"]
    # Wide enough for every column whether or not stdout is a terminal.
    Console(width=max(out.width, 160), highlight=False).print(table)
    for s in summary["batch_speedup"]:
        mean = "n/a" if s["geometric_mean"] is None else f"{s['geometric_mean']:.2f}x"
        out.print(f"{s['method']} with {_workers(s)} workers needs {mean} less simulated wall time to reach "
                  f"{summary['target_fraction']:.2f} of the optimum than with 1 (geometric mean over "
                  f"{s['spaces_reaching_target']} of {s['spaces']} spaces where both reach it)")
    out.print(f"runtime {summary['runtime_s']:.0f} s")
