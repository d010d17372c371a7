"""``tuneforge autotune ...``: stored configs for ``tuneforge.autotune`` in and out of the database.

``import-triton`` reads Triton's own autotune cache files (``*.autotune.json``, written with
``cache_results=True``) as measured results with provenance; ``export`` writes the autotune file
a release build reads offline (``source="configs.jsonl"``).
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any, Optional

import typer

from tuneforge.api.console import err, fail
from tuneforge.core.errors import UserInputError

autotune_app = typer.Typer(help="stored configs for tuneforge.autotune: import Triton caches, export for releases")


def register(app: typer.Typer, bench: typer.Typer) -> None:
    app.add_typer(autotune_app, name="autotune")


def triton_cache_records(path: Path, kernel: Any, *, device: str, triton_version: str,
                         tie_tolerance: float = 0.02) -> list[dict[str, Any]]:
    """One record per Triton cache file: its key bucketed like ``tuneforge.autotune`` does, and the
    config it would pick from the file's timings."""
    from tuneforge.autotune_keys import bucket_of, kernel_hash
    from tuneforge.autotune_sources import choose

    keys = list(getattr(kernel, "keys", None) or [])
    if not keys:
        raise UserInputError("the kernel must be decorated with triton.autotune or tuneforge.autotune (its `key` "
                             "names the cache file's values)")
    try:
        data = json.loads(path.read_text())
        values, pairs = list(data["key"]), data["configs_timings"]
        configs = [{**c["kwargs"], **{k: c[k] for k in ("num_warps", "num_stages", "num_ctas", "maxnreg")
                                      if c.get(k) is not None}} for c, _ in pairs]
        timings = [float(t[0] if isinstance(t, list) else t) for _, t in pairs]
    except (OSError, ValueError, KeyError, TypeError, IndexError) as exc:
        raise UserInputError(f"{path} is not a Triton autotune cache file ({type(exc).__name__}: {exc}); "
                             "Triton writes them as <kernel>.autotune.json with cache_results=True") from exc
    if not configs or len(values) < len(keys):
        raise UserInputError(f"{path} holds no timed configs or fewer key values than the kernel's key {keys}")
    index = choose(timings, tie_tolerance)
    bucket = bucket_of(dict(zip(keys, values[:len(keys)])), [str(v) for v in values[len(keys):]])
    return [{"kernel": kernel_hash(kernel), "kernel_name": getattr(getattr(kernel, "base_fn", kernel), "__name__", ""),
             "bucket": bucket, "device": device, "triton": triton_version, "config": configs[index],
             "time_ms": timings[index], "provenance": "measured",
             "origin": {"format": "triton-autotune-cache", "file": str(path.resolve()),
                        "sha256": hashlib.sha256(path.read_bytes()).hexdigest(), "configs_timed": len(configs)}}]


@autotune_app.command("import-triton")
def import_triton(files: list[Path] = typer.Argument(..., help="Triton autotune cache files (*.autotune.json)"),
                  kernel: str = typer.Option(..., help="the decorated kernel, module:name"),
                  device: str = typer.Option(..., help="the GPU the cache was measured on, as tuneforge.autotune "
                                             "names it: 'NVIDIA H100 80GB HBM3 (sm_90)'"),
                  triton_version: Optional[str] = typer.Option(None, "--triton",
                                                               help="Triton version (default: the installed one)")) -> None:
    """Store the configs of Triton autotune caches, with where they came from."""
    from tuneforge.core.settings import get_settings
    from tuneforge.db.autotune_store import put_autotune_configs

    from tuneforge.kernels._from_autotune import load_kernel

    try:
        found = load_kernel(kernel)
        if triton_version is None:
            import triton

            triton_version = triton.__version__
        records = [r for f in files for r in triton_cache_records(f, found, device=device,
                                                                   triton_version=triton_version)]
    except UserInputError as exc:
        fail(str(exc))
    written = put_autotune_configs(get_settings().database_url, records)
    err.print(f"stored {written} autotune config(s) for {kernel} on {device} (Triton {triton_version})")


@autotune_app.command("export")
def export(output: Path = typer.Option(..., "--output", "-o", help="the autotune file to write (JSON lines)"),
           kernel_hash: Optional[str] = typer.Option(None, "--kernel-hash", help="only this kernel's configs")) -> None:
    """Write the stored configs as the file a release build reads offline: autotune(..., source=FILE)."""
    from tuneforge.core.settings import get_settings
    from tuneforge.db.autotune_store import list_autotune_configs

    records = list_autotune_configs(get_settings().database_url, kernel=kernel_hash)
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text("".join(json.dumps(r, sort_keys=True) + "\n" for r in records))
    err.print(f"wrote {output}: {len(records)} autotune config(s)")
