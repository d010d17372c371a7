"""``tuneforge bench kernels``: each Triton target's tuned kernel against the torch baseline and the roofline.

The tuned config is chosen by ranking the space with the analytical GPU model and evaluating
the most promising configs on the device: on ``sim:<gpu>`` the numbers are the model's (and
the table says so), on ``cuda`` they are measured.
"""

from __future__ import annotations

from typing import Any, Optional

import typer
from rich.table import Table

from tuneforge.api.console import err, fail, format_params, out, print_json, provenance_label
from tuneforge.core.errors import UserInputError
from tuneforge.core.settings import get_settings


def _tuned(device: Any, target: Any, problem: Any, model_gpu: str, top: int) -> tuple[dict | None, Any]:
    """(best config, its trial result) among the model's ``top`` picks that the device accepts."""
    from tuneforge.core.types import Candidate
    from tuneforge.evaluators.gpu_model.prune import rank_configs

    best: tuple[dict | None, Any] = (None, None)
    for config, _ in rank_configs(target, problem, model_gpu, keep=top):
        result = device.evaluate(target, problem, Candidate(config, origin="bench"))
        if not result.ok:
            err.print(f"  {target.name} {format_params(config)}: {result.status} ({result.log[:120]})")
            continue
        if best[1] is None or result.metrics["time_ms"] < best[1].metrics["time_ms"]:
            best = (config, result)
    return best


def _row(target: Any, problem: Any, config: dict | None, result: Any, baseline: Any) -> dict[str, Any]:
    row: dict[str, Any] = {"target": target.name, "problem": problem.key(), "config": config}
    if result is not None:
        m = result.metrics
        row.update(time_ms=m["time_ms"], roofline_ms=m.get("roofline_ms"),
                   fraction_of_roofline=m.get("fraction_of_roofline"), provenance=str(result.provenance))
    if baseline is not None and baseline.ok:
        row.update(torch_ms=baseline.metrics["time_ms"], baseline_provenance=str(baseline.provenance))
        if result is not None:
            row["speedup_vs_torch"] = baseline.metrics["time_ms"] / result.metrics["time_ms"]
    return row


_SHORT = {"variant": "", "BLOCK_": "", "GROUP_M": "G", "SPLIT_K": "SK", "num_warps": "w", "num_stages": "s",
          "group_size": "g", "pack_dim": "pack", "bits": "bits"}


def _compact(config: dict) -> str:
    """``grouped M128 N256 K64 G8 SK1 w8 s3``: configs fit a narrow terminal."""
    parts = []
    for key, value in config.items():
        short = next((key.replace(k, v) for k, v in _SHORT.items() if key.startswith(k)), key)
        parts.append(f"{short}{value}" if short else str(value))
    return " ".join(parts)


def _fmt(value: float | None, spec: str, unit: str = "") -> str:
    return "-" if value is None else format(value, spec) + unit


def register(app: typer.Typer, bench: typer.Typer) -> None:
    @bench.command("kernels")
    def kernels(device: str = typer.Option("sim:h100", "--device", "-d", help="sim:h100, sim:a100, sim:h200 "
                                           "(modelled) or cuda / cuda:N (measured)"),
                target: Optional[list[str]] = typer.Option(None, "--target", "-t", help="Triton target, "
                                                           "repeatable; default: all of them"),
                top: int = typer.Option(4, min=1, help="configs evaluated per target, best modelled first"),
                model_gpu: Optional[str] = typer.Option(None, help="GPU model that ranks configs for cuda "
                                                        "(h100, a100, h200); default h100"),
                as_json: bool = typer.Option(False, "--json", help="print JSON rows instead of a table")) -> None:
        """Per target at its default (KernelBench-sized) problem: tuned Triton kernel vs torch vs roofline."""
        from tuneforge.evaluators.devices.sim_gpu import SimGpuDevice
        from tuneforge.evaluators.devices.triton_cuda import NO_GPU, TritonCudaDevice, gpu_visible
        from tuneforge.evaluators.gpu_model.specs import GPUS
        from tuneforge.evaluators.registry import resolve_device
        from tuneforge.kernels._triton_common import TritonTarget
        from tuneforge.kernels.registry import all_targets

        settings = get_settings()
        try:
            dev = resolve_device(device, settings)
        except UserInputError as exc:
            fail(str(exc))
        if not isinstance(dev, (SimGpuDevice, TritonCudaDevice)):
            fail(f"bench kernels times kernels: use --device sim:h100 / sim:a100 (modelled) or cuda (measured), "
                 f"not {device!r}")
        if isinstance(dev, TritonCudaDevice) and not gpu_visible():
            fail(NO_GPU)
        ranking_gpu = dev.gpu.key if isinstance(dev, SimGpuDevice) else (model_gpu or "h100")
        if ranking_gpu not in GPUS:
            fail(f"--model-gpu must be one of {', '.join(GPUS)}")
        triton_targets = {n: t for n, t in all_targets().items() if isinstance(t, TritonTarget)}
        names = target or list(triton_targets)
        unknown = [n for n in names if n not in triton_targets]
        if unknown:
            fail(f"unknown Triton target(s) {unknown}; choose from {', '.join(triton_targets)}")

        rows = []
        for name in names:
            tgt = triton_targets[name]
            problem = tgt.default_problem()
            if not as_json:
                err.print(f"[dim]{name} {problem.key()}: evaluating the model's top {top} configs...[/dim]")
            config, result = _tuned(dev, tgt, problem, ranking_gpu, top)
            rows.append(_row(tgt, problem, config, result, dev.baseline(tgt, problem)))
        if as_json:
            print_json({"device": dev.hardware_name, "provenance": str(dev.provenance), "rows": rows})
            return

        how = ("modelled by tuneforge's analytical GPU model, not measured; each config verified under the "
               "Triton interpreter" if isinstance(dev, SimGpuDevice) else
               f"{provenance_label(str(dev.provenance))}: median of CUDA-event timings, L2 flushed between runs")
        table = Table(title=f"Triton kernels on {dev.hardware_name}", caption=f"all times {how}")
        for column in ("target", "problem", "tuned config", "kernel ms", "torch ms", "speedup", "roofline ms",
                       "of roofline"):
            table.add_column(column, justify="right" if "ms" in column or column in ("speedup", "of roofline")
                             else "left")
        for row in rows:
            table.add_row(row["target"], row["problem"], _compact(row["config"]) if row["config"] else
                          "[red]no config passed[/red]", _fmt(row.get("time_ms"), ".4g"),
                          _fmt(row.get("torch_ms"), ".4g"), _fmt(row.get("speedup_vs_torch"), ".2f", "x"),
                          _fmt(row.get("roofline_ms"), ".4g"), _fmt(row.get("fraction_of_roofline"), ".0%"))
        out.print(table)
