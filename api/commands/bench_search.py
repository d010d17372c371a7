"""``tuneforge bench search``: tuneforge's strategies against Kernel Tuner's on measured spaces."""

from __future__ import annotations

import json
import math
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
# Every number the bench prints comes from recorded measurements played back, not from a GPU run now.
REPLAYED = "replayed measured spaces (no GPU ran)"
DEFAULT_KT = "random_sample,genetic_algorithm,simulated_annealing,greedy_ils,pso,diff_evo"
REFILLS = ("batch", "async")
MODES = ("cold", "transfer")


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
               mode: str = typer.Option("cold", help="'cold' (an empty database), 'transfer' (leave one GPU out: "
                                        "the other GPUs' files of the same kernel are tuned first and their "
                                        "histories given to the search), or both: cold,transfer"),
               reuse: Optional[Path] = typer.Option(None, help="take Kernel Tuner's runs from this traces.json "
                                                    "of an earlier `bench search --out` instead of rerunning them"),
               workers: int = typer.Option(os.cpu_count() or 1, help="processes running seeds at once"),
               out_dir: Optional[Path] = typer.Option(None, "--out", help="write bench_search.json and "
                                                      "bench_search.png here"),
               as_json: bool = typer.Option(False, "--json", help="print the JSON table, no progress bars")) -> None:
        """Replay measured GPU tuning spaces; report median and quartiles of the fraction of optimum."""
        from tuneforge.bench.search import kt_run
        from tuneforge.bench.search.plot import plot_curves
        from tuneforge.bench.search.runner import KERNEL_TUNER, best_times, plan, run_all, space_name, with_sources
        from tuneforge.bench.search.replay_run import Trace
        from tuneforge.bench.search.traces import load_traces, save_traces
        from tuneforge.bench.search.stats import summarize
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
        lacking = kt_run.missing_packages(kt_strategies)
        if lacking:
            fail(f"Kernel Tuner's {', '.join(lacking)} need(s) "
                 f"{', '.join(kt_run.NEEDS[s] for s in lacking)} installed; install it or leave them out of --kt")
        modes = tuple(dict.fromkeys(_csv(mode)))
        if not modes or set(modes) - set(MODES):
            fail(f"--mode takes some of {', '.join(MODES)}; got {mode!r}")
        budget_list = sorted(set(_ints(budgets, "--budgets")))
        parallels = sorted(set(_ints(parallel, "--parallel")))
        refills = tuple(dict.fromkeys(_csv(refill)))
        if not refills or set(refills) - set(REFILLS):
            fail(f"--refill takes some of {', '.join(REFILLS)}; got {refill!r}")
        if seeds < 1:
            fail("--seeds must be at least 1")

        reused = load_traces(reuse) if reuse is not None else {}
        started = time.perf_counter()
        with tempfile.TemporaryDirectory(prefix="tuneforge-bench-") as scratch:
            specs = plan(paths, tf_strategies, kt_strategies, seeds, max(budget_list), parallels, Path(scratch),
                         refills, modes)
            done = {s.key: Trace(reused[s.key][1].times_ms[:s.budget], reused[s.key][1].wall_s[:s.budget])
                    for s in specs if s.tool == KERNEL_TUNER and s.key in reused and reused[s.key][0] >= s.budget}
            if reuse is not None and kt_strategies and not done:
                fail(f"{reuse} holds none of the Kernel Tuner runs asked for (same files, strategies, seeds, "
                     f"and a budget of at least {max(budget_list)})")
            specs = [s for s in specs if s.key not in done]
            progress = Progress(TextColumn("{task.description:<28}"), BarColumn(), MofNCompleteColumn(),
                                TimeElapsedColumn(), console=err, disable=as_json)
            with progress:
                bars = {space_name(p): progress.add_task(space_name(p), total=sum(s.path == p for s in specs)
                                                         + sum(k.space == space_name(p) for k in done))
                        for p in paths}
                for key in done:
                    progress.advance(bars[key.space])
                advance = lambda s: progress.advance(bars[space_name(s.path)])  # noqa: E731
                traces = done | run_all([s for s in specs if not s.siblings], workers, on_done=advance)
                # Then leave one GPU out: each file again, learning from its siblings' runs.
                later = with_sources([s for s in specs if s.siblings], traces)
                traces |= run_all(later, workers, on_done=advance)
                if "cold" not in modes:
                    traces = {k: t for k, t in traces.items() if k.mode != "cold" or k.method.startswith(KERNEL_TUNER)}
        summary = summarize(traces, best_times(paths), budget_list)
        summary["runtime_s"] = round(time.perf_counter() - started, 1)
        summary["measurements"] = REPLAYED
        summary["command"] = {"spaces": [str(p) for p in paths], "strategies": tf_strategies,
                              "kernel_tuner": kt_strategies, "seeds": seeds, "parallel": parallels,
                              "refill": list(refills), "mode": list(modes), "budgets": budget_list,
                              "reused": str(reuse) if reuse else None}
        if out_dir is not None:
            out_dir.mkdir(parents=True, exist_ok=True)
            (out_dir / "bench_search.json").write_text(json.dumps(summary, indent=1))
            save_traces(traces, max(budget_list), out_dir / "traces.json")
            plot_curves(summary, out_dir / "bench_search.png")
        if as_json:
            print_json({k: v for k, v in summary.items() if k != "rows"} |
                       {"rows": [_without_curves(r) for r in summary["rows"]]})
            return
        _print_tables(summary)
        if out_dir is not None:
            out.print(f"wrote {out_dir / 'bench_search.json'}, {out_dir / 'bench_search.png'} and "
                      f"{out_dir / 'traces.json'}")


def _without_curves(row: dict) -> dict:
    return {k: v for k, v in row.items() if not k.endswith("_curve")}


def _workers(row: dict) -> str:
    return str(row["parallel"]) if row["parallel"] == 1 else f"{row['parallel']} {row['refill']}"


def _reach(row: dict) -> list[str]:
    """Median trials and charged seconds to 0.90 and 0.95 of the optimum ('-': most seeds never)."""
    cells = []
    for level in row.get("to_quality", {}).values():
        trials, secs = level["trials"], level["seconds"]
        cells.append("-" if trials is None else f"{trials:.0f} / {secs:.0f}s" if secs is not None else f"{trials:.0f}")
    return cells or ["", ""]


def _cell(q: dict) -> str:
    return f"{q['median']:.3f} ({q['q1']:.3f}-{q['q3']:.3f})"


def _print_versus(summary: dict) -> None:
    if not summary["versus"]:
        return
    budgets = [str(b) for b in summary["budgets"]]
    table = Table(title=f"{REPLAYED}: against the best Kernel Tuner strategy at each budget: medians, and whether "
                        f"the seeds say tuneforge finds less (one-sided Mann-Whitney, p < {summary['behind_p']})")
    for col in ("space", "method", "mode", *budgets):
        table.add_column(col, justify="left" if col in ("space", "method", "mode") else "right")
    for row in summary["versus"]:
        cells = [f"{c['median']:.3f} vs {c['rival_median']:.3f} {c['rival'].partition(':')[2]}: "
                 f"{c['verdict']} (p={c['p_behind']:.2f})" for c in (row["budgets"][b] for b in budgets)]
        table.add_row(row["space"], row["method"], row["mode"], *cells)
    Console(width=max(out.width, 160), highlight=False).print(table)


def _print_tables(summary: dict) -> None:
    budgets = [str(b) for b in summary["budgets"]]
    table = Table(title=f"{REPLAYED}: fraction of optimum, median (quartiles) over seeds; trials / charged seconds "
                        "to reach 0.90 and 0.95 of it (median over seeds, '-' where most seeds never did)",
                  show_lines=False)
    for col in ("space", "method", "mode", "workers", *budgets, "to 0.90", "to 0.95"):
        table.add_column(col, justify="left" if col in ("space", "method", "mode", "workers") else "right")
    last = None
    for row in [*summary["rows"], *summary["overall"]]:
        best_at = {b: max((r["fraction"][b]["median"] for r in [*summary["rows"], *summary["overall"]]
                           if r["space"] == row["space"] and r["parallel"] == 1 and r["mode"] == "cold"),
                          default=math.inf)
                   for b in budgets}
        cells = [("[bold green]" if row["parallel"] == 1 and row["mode"] == "cold"
                  and row["fraction"][b]["median"] >= best_at[b] else "") + _cell(row["fraction"][b])
                 for b in budgets]
        table.add_row(row["space"] if row["space"] != last else "", row["method"], row["mode"], _workers(row),
                      *cells, *_reach(row), end_section=False)
        last = row["space"]
    # Wide enough for every column whether or not stdout is a terminal.
    Console(width=max(out.width, 160), highlight=False).print(table)
    _print_versus(summary)
    for s in summary["batch_speedup"]:
        mean = "n/a" if s["geometric_mean"] is None else f"{s['geometric_mean']:.2f}x"
        out.print(f"{s['method']} with {_workers(s)} workers needs {mean} less simulated wall time to reach "
                  f"{summary['target_fraction']:.2f} of the optimum than with 1 (geometric mean over "
                  f"{s['spaces_reaching_target']} of {s['spaces']} spaces where both reach it)")
    out.print(f"runtime {summary['runtime_s']:.0f} s")
