"""Writes a self-contained Python module of a tuned Triton target: kernel source, config table, dispatch.

The module depends on torch, triton and the standard library only. It defines a function named
like the target with the launch wrapper's positional signature (``matmul(a, b, out=None)``) that
launches with the tuned config nearest each call's problem, or the kernel's own defaults when
nothing was tuned.
"""

from __future__ import annotations

import ast
import pprint
from datetime import datetime, timezone
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

from tuneforge.core.errors import UserInputError
from tuneforge.kernels._base import Target

_RUNTIME_PATH = Path(__file__).with_name("runtime.py")
_LABELS = {"measured": "measured", "replayed": "replayed from a recorded measurement, not measured here",
           "modelled": "modelled, not measured", "verified-only": "verified only, not timed"}


def exportable(target: Target) -> bool:
    return callable(getattr(target, "impl_source", None))


def render_module(target: Target, records: list[dict[str, Any]]) -> str:
    """The module's text. ``records`` are best-config records (``api.export.records.best_record``)."""
    if not exportable(target):
        raise UserInputError(f"target {target.name!r} ({target.family}) has no Triton source to export; "
                             "use format=jsonl for its best configs")
    source = target.impl_source()
    name = target.function_name
    tree = ast.parse(source)
    params, call, required = _positional_signature(tree, name)
    runtime = _RUNTIME_PATH.read_text()
    _check_no_clashes(tree, ast.parse(runtime), name)
    vendorable = [r for r in records if not r["custom_source"]]
    table = [_table_entry(target, r) for r in vendorable]
    future, body = _split_future_imports(source, tree)
    parts = [
        _header(target, required, vendorable, skipped=len(records) - len(vendorable)),
        *future,
        f"# ---- kernel: {target.impl_module}, verbatim ----\n\n{body.rstrip()}\n",
        "# ---- tuned configs: one per (problem, device); `provenance` says where each number comes from ----\n\n"
        f"TARGET = {target.name!r}\nDIMS = {tuple(target.dims)!r}\n"
        f"TUNED_CONFIGS = {pprint.pformat(table, width=140, sort_dicts=False)}\n",
        f"# ---- dispatch ----\n\n{_strip_docstring(runtime).strip()}\n",
        _wrapper(name, params, call),
    ]
    return "\n\n".join(parts)


def _positional_signature(tree: ast.Module, name: str) -> tuple[str, str, str]:
    """The launch wrapper's parameters before its config keywords: as declared (``a, b, out=None``),
    as passed on (``a, b, out``), and the required ones (``a, b``)."""
    func = next((n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == name), None)
    if func is None:
        raise UserInputError(f"the kernel source defines no function {name!r} to export")
    args = func.args
    if args.vararg is not None:
        raise UserInputError(f"{name}() takes *{args.vararg.arg}; an exported wrapper needs named parameters")
    positional = args.posonlyargs + args.args
    defaults = [None] * (len(positional) - len(args.defaults)) + list(args.defaults)
    params = [a.arg if d is None else f"{a.arg}={ast.unparse(d)}" for a, d in zip(positional, defaults)]
    required = [a.arg for a, d in zip(positional, defaults) if d is None]
    return ", ".join(params), ", ".join(a.arg for a in positional), ", ".join(required)


def _check_no_clashes(kernel: ast.Module, runtime: ast.Module, name: str) -> None:
    needed = _top_level_names(runtime, imports=False) | {"TARGET", "DIMS", "TUNED_CONFIGS", "TUNED", f"_untuned_{name}"}
    taken = _top_level_names(kernel, imports=True) & needed
    if taken:
        raise UserInputError(f"the kernel source defines {sorted(taken)}, names the exported module needs")


def _top_level_names(tree: ast.Module, imports: bool) -> set[str]:
    names: set[str] = set()
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, (ast.Assign, ast.AnnAssign)):
            for target in node.targets if isinstance(node, ast.Assign) else [node.target]:
                names |= {n.id for n in ast.walk(target) if isinstance(n, ast.Name)}
        elif imports and isinstance(node, (ast.Import, ast.ImportFrom)):
            names |= {(a.asname or a.name).split(".")[0] for a in node.names}
    return names


def _split_future_imports(source: str, tree: ast.Module) -> tuple[list[str], str]:
    """``from __future__`` lines must open a module: lift them above the embedded source."""
    lines = source.splitlines(keepends=True)
    future = [n for n in tree.body if isinstance(n, ast.ImportFrom) and n.module == "__future__"]
    drop = {i for n in future for i in range(n.lineno - 1, n.end_lineno)}
    return [ast.unparse(n) for n in future], "".join(l for i, l in enumerate(lines) if i not in drop)


def _strip_docstring(source: str) -> str:
    tree = ast.parse(source)
    first = tree.body[0]
    if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant) and isinstance(first.value.value, str):
        return "".join(source.splitlines(keepends=True)[first.end_lineno:])
    return source


def _table_entry(target: Target, record: dict[str, Any]) -> dict[str, Any]:
    return {"problem": record["problem"], "dims": record["dims"], "dtype": record["dtype"],
            "device": record["device"], "device_name": record["device_name"],
            "config": target.kernel_kwargs(record["params"]),
            "metric": record["metric"], "value": record["value"], "provenance": record["provenance"],
            "speedup_vs_baseline": record["speedup_vs_baseline"], "strategy": record["strategy"],
            "job_id": record["job_id"], "seed": record["seed"], "tuned_at": record["updated_at"]}


def _header(target: Target, required: str, records: list[dict[str, Any]], skipped: int) -> str:
    lines = [f"Tuned Triton kernel `{target.name}`, exported by tuneforge {_own_version()} on "
             f"{datetime.now(timezone.utc):%Y-%m-%d %H:%M UTC}.", "",
             f"{target.description}", "",
             "Self-contained: needs torch and triton only. On a machine without a GPU, set",
             "TRITON_INTERPRET=1 before importing it to run the kernel in Triton's interpreter.", "",
             f"Usage, with this file saved as {target.name}_tuned.py:",
             f"    from {target.name}_tuned import {target.function_name}",
             f"    {target.function_name}({required})  # the tuned config nearest the call's shape, dtype and device", "",
             "Keyword arguments passed to the call override the tuned config (and prefer tuned configs that",
             "agree with them); with no tuned config the kernel's own defaults are used.", ""]
    if records:
        lines.append(f"Tuned configs ({len(records)}), with where each number comes from:")
        for r in records:
            lines.append(f"  - {r['problem']} on {r['device']} ({r['device_name']}): {r['value']:.6g} {r['metric']}, "
                         f"{_LABELS.get(r['provenance'], r['provenance'])}; {r['strategy']} search, "
                         f"job {r['job_id']}, seed {r['seed']}")
        for versions in _distinct(r["versions"] for r in records):
            lines.append("  tuned with " + ", ".join(f"{k} {v}" for k, v in versions.items()))
    else:
        lines.append("No tuned configs yet: every call uses the kernel's defaults.")
    if skipped:
        lines.append(f"{skipped} best config(s) came with agent-written kernel source and are left out; "
                     "see their jobs on the dashboard.")
    return '"""' + "\n".join(lines).replace('"""', "'''") + '\n"""'


def _wrapper(name: str, params: str, call: str) -> str:
    forward = f"{call}, " if call else ""
    return (f"TUNED = _Dispatcher(TUNED_CONFIGS, DIMS, globals().get('input_shapes'))\n"
            f"_untuned_{name} = {name}\n\n\n"
            f"def {name}({params}{', ' if params else ''}**config):\n"
            f'    """`{name}` with the tuned config nearest this call; `config` keywords override it."""\n'
            f"    return _untuned_{name}({forward}**TUNED.config_for([{call}], config))\n")


def _distinct(items) -> list[dict[str, Any]]:
    seen: list[dict[str, Any]] = []
    for item in items:
        if item not in seen:
            seen.append(item)
    return seen


def _own_version() -> str:
    try:
        return version("tuneforge")
    except PackageNotFoundError:
        return "(development)"
