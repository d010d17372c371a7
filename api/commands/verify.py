"""``tuneforge verify TARGET --source FILE.py``: judge a kernel module the way agent code is judged
(static checks, then the verification harness in a sandbox process) and print the verdict."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any, Optional

import typer

from tuneforge.api.console import fail, out, print_json


def register(app: typer.Typer, bench: typer.Typer) -> None:
    app.command()(verify)


def verify(target: str = typer.Argument(..., help="target name, e.g. softmax"),
           source: Path = typer.Option(..., "--source", exists=True, dir_okay=False,
                                       help="a module defining a function named like the target that takes the "
                                            "reference's inputs, writes into `out` and returns it"),
           device: str = typer.Option("cpu", "--device", "-d", help="cpu (Triton interpreter) or cuda"),
           shape: Optional[str] = typer.Option(None, help="problem whose dtype and config rules apply"),
           dtype: Optional[str] = typer.Option(None, help="fp32, fp16, bf16"),
           params: Optional[str] = typer.Option(None, help="config passed to the function, e.g. BLOCK_N=1024,"
                                                           "num_warps=4 (default: a fixed valid config)"),
           timeout: float = typer.Option(300.0, help="wall-clock limit of the sandbox process, seconds"),
           as_json: bool = typer.Option(False, "--json")) -> None:
    """Verify agent-style kernel code: accepted, or rejected with the rule that caught it."""
    from tuneforge.core.errors import UserInputError
    from tuneforge.core.types import parse_shape
    from tuneforge.evaluators.agent_code.sandbox import Limits
    from tuneforge.evaluators.agent_code.verify import verify_agent_source
    from tuneforge.kernels._triton_common import TritonTarget
    from tuneforge.kernels.registry import get_target

    if device not in ("cpu", "cuda"):
        fail(f"verify runs code on cpu (Triton interpreter) or cuda, not {device!r}")
    tgt = get_target(target)
    if not isinstance(tgt, TritonTarget):
        fail(f"{target!r} is a {tgt.family} target; verify checks Triton kernel code")
    problem = tgt.parse_problem(parse_shape(shape), dtype)
    space = tgt.space(problem)
    config = _config(space, params) if params else space.sample_valid(random.Random(0))
    if violations := space.violations(config):
        raise UserInputError("--params is not a valid config: " + "; ".join(violations))
    verdict = verify_agent_source(tgt, problem, config, source.read_text(), device=device, small=device == "cpu",
                                  limits=Limits(wall_s=timeout, cpu_s=int(timeout),
                                                memory_bytes=Limits.memory_bytes if device == "cpu" else None))
    report = {"target": tgt.name, "problem": problem.key(), "device": device, "config": config,
              "accepted": verdict.passed, **verdict.to_dict()}
    if as_json:
        print_json(report)
    elif verdict.passed:
        out.print(f"[green]accepted[/green]: {tgt.name} verified at "
                  + ", ".join(f"{c['dims']} ({c['distribution']}, max error {c['max_err_rel']:.2g} x max|ref|)"
                              for c in verdict.checks))
    else:
        out.print(f"[red]rejected[/red] by rule [bold]{verdict.rule}[/bold] ({verdict.status})")
        out.print(verdict.message, markup=False)
    raise typer.Exit(0 if verdict.passed else 1)


def _config(space, text: str) -> dict[str, Any]:
    """``K=V,...`` with each value read as the type of the space's own values."""
    config: dict[str, Any] = {}
    for item in text.split(","):
        name, _, value = item.strip().partition("=")
        if name not in space.names:
            from tuneforge.core.errors import UserInputError

            raise UserInputError(f"unknown parameter {name!r}; the space has {', '.join(space.names)}")
        config[name] = next((v for v in space.param(name).values if str(v) == value), value)
    return config
