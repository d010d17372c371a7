"""``tuneforge simulate`` (score one accelerator design on one layer) and ``tuneforge bench
accel`` (the model against SCALE-Sim: cycle agreement, finite-bandwidth error, speed)."""

from __future__ import annotations

import statistics
from typing import Optional

import typer
from rich.table import Table

from tuneforge.api.console import fail, out, print_json, provenance_label
from tuneforge.core.errors import UserInputError

MODELLED = provenance_label("modelled")


def _parse_design(array: str, dataflow: str, sram_kb: str, bandwidth: Optional[float], word_bits: int):
    from tuneforge.evaluators.systolic.design import Design

    try:
        rows, cols = (int(v) for v in array.lower().split("x"))
        ifmap_kb, filter_kb, ofmap_kb = (int(v) for v in sram_kb.split(","))
    except ValueError:
        raise UserInputError("write --array ROWSxCOLS (e.g. 32x32) and --sram-kb IFMAP,FILTER,OFMAP "
                             "(e.g. 64,64,32), positive integers") from None
    design = Design(rows, cols, dataflow, ifmap_kb, filter_kb, ofmap_kb, bandwidth=bandwidth, word_bits=word_bits)
    if design.violations():
        raise UserInputError("; ".join(design.violations()))
    return design


def simulate(array: str = typer.Option("32x32", help="ROWSxCOLS of the systolic array"),
             dataflow: str = typer.Option("ws", help="os | ws | is"),
             sram_kb: str = typer.Option("64,64,32", help="IFMAP,FILTER,OFMAP SRAM sizes in kB"),
             bandwidth: Optional[float] = typer.Option(None, help="DRAM words/cycle per port; omit for an "
                                                                  "ideal (stall-free) memory"),
             word_bits: int = typer.Option(8, help="datapath word width in bits"),
             layer: str = typer.Option(..., help="gemm:M,N,K or conv:H,W,R,S,C,K,STRIDE (no padding)"),
             as_json: bool = typer.Option(False, "--json", help="print one JSON object")) -> None:
    """Score one systolic-array design on one layer (modelled by sim:systolic)."""
    from tuneforge.evaluators.systolic.model import score
    from tuneforge.kernels.accel.layers import parse_layer

    try:
        design, parsed = _parse_design(array, dataflow, sram_kb, bandwidth, word_bits), parse_layer(layer)
    except UserInputError as exc:
        fail(str(exc))
    metrics = score(design, [(parsed, 1)])
    if as_json:
        print_json({"device": "sim:systolic", "provenance": "modelled", "design": design.describe(),
                    "layer": parsed.__dict__, "metrics": metrics})
        return
    table = Table(title=f"{parsed.name} on {design.rows}x{design.cols} {design.dataflow} ({MODELLED})")
    table.add_column("metric")
    table.add_column("value", justify="right")
    for name, value in metrics.items():
        table.add_row(name, f"{value:.6g}")
    out.print(table)


def bench_accel(quick: bool = typer.Option(False, help="small layers only (seconds instead of a minute)"),
                workers: int = typer.Option(2, help="SCALE-Sim processes run at once"),
                as_json: bool = typer.Option(False, "--json", help="print one JSON object")) -> None:
    """Run SCALE-Sim and the closed-form model side by side: compute cycles, stalls, speed."""
    from tuneforge.evaluators.systolic.validation import compare, designs_per_second, validation_cases
    from tuneforge.kernels.accel.workloads import resnet18

    ideal_cases, finite_cases = validation_cases(quick=quick)
    ideal, finite = compare(ideal_cases, workers), compare(finite_cases, workers)
    rows = [_row(c) for c in ideal + finite]
    exact = sum(c.model_compute == c.oracle.compute_cycles for c in ideal + finite)
    summary = {
        "cases": len(rows), "compute_cycles_exact": exact,
        "finite_bandwidth_total_cycle_error_median": statistics.median(abs(c.total_error) for c in finite),
        "finite_bandwidth_total_cycle_error_max": max(abs(c.total_error) for c in finite),
        "speedup_single_call_median": statistics.median(c.speedup for c in ideal + finite),
        "speedup_single_call_min": min(c.speedup for c in ideal + finite),
        "resnet18_designs_per_second": designs_per_second(resnet18()),
    }
    per_layer_batched = 1 / (summary["resnet18_designs_per_second"] * len(resnet18()))
    summary["speedup_batched_median"] = statistics.median(c.oracle.seconds for c in ideal + finite) / per_layer_batched
    if as_json:
        print_json({"provenance": "modelled vs scalesim 3.0.0", "summary": summary, "cases": rows})
        return
    table = Table(title=f"sim:systolic ({MODELLED}) vs SCALE-Sim 3.0.0")
    for col in ("layer", "array", "df", "bw", "compute sim", "compute model", "stall sim", "stall model",
                "total err", "scalesim s", "model us", "speedup"):
        table.add_column(col, justify="right")
    for r in rows:
        table.add_row(r["layer"], r["array"], r["dataflow"], str(r["bandwidth"] or "ideal"), str(r["compute_scalesim"]),
                      str(r["compute_model"]), str(r["stall_scalesim"]), str(r["stall_model"]),
                      f"{r['total_error']:+.1%}", f"{r['scalesim_s']:.3f}", f"{r['model_s'] * 1e6:.0f}",
                      f"{r['speedup']:,.0f}x")
    out.print(table)
    out.print(f"compute cycles exact (stall-free schedule): [bold]{exact}/{len(rows)}[/bold] cases")
    out.print(f"finite bandwidth, total-cycle error: median {summary['finite_bandwidth_total_cycle_error_median']:.1%}, "
              f"max {summary['finite_bandwidth_total_cycle_error_max']:.1%}")
    out.print(f"speed: median {summary['speedup_single_call_median']:,.0f}x per layer in single calls "
              f"(min {summary['speedup_single_call_min']:,.0f}x); {summary['speedup_batched_median']:,.0f}x batched "
              f"({summary['resnet18_designs_per_second']:,.0f} resnet18 designs/s)")


def _row(c) -> dict:
    case = c.oracle.case
    return {"layer": case.layer.name, "array": f"{case.rows}x{case.cols}", "dataflow": case.dataflow,
            "bandwidth": case.bandwidth, "sram_kb": list(case.sram_kb),
            "compute_scalesim": c.oracle.compute_cycles, "compute_model": c.model_compute,
            "stall_scalesim": c.oracle.stall_cycles, "stall_model": c.model_stall, "total_error": c.total_error,
            "scalesim_s": c.oracle.seconds, "model_s": c.model_seconds, "speedup": c.speedup}


def register(app: typer.Typer, bench: typer.Typer) -> None:
    app.command("simulate")(simulate)
    bench.command("accel")(bench_accel)
