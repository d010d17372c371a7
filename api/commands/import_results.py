"""``tuneforge import kernel-tuner FILE...``: Kernel Tuner cache files as measured results with provenance."""

from __future__ import annotations

from pathlib import Path

import typer

from tuneforge.api.console import err, fail
from tuneforge.core.errors import UserInputError

import_app = typer.Typer(help="measured results from other tools into the database, with provenance "
                              "(Triton autotune caches: `tuneforge autotune import-triton`)")


def register(app: typer.Typer, bench: typer.Typer) -> None:
    app.add_typer(import_app, name="import")


@import_app.command("kernel-tuner")
def kernel_tuner(files: list[Path] = typer.Argument(..., help="Kernel Tuner cache files (.json or .json.gz)")) -> None:
    """Each file becomes one finished job of measured trials; its best config joins the leaderboard."""
    from tuneforge.api.export.kernel_tuner import import_kernel_tuner_cache
    from tuneforge.core.settings import get_settings

    settings = get_settings()
    for path in files:
        # The file is named here, by the machine's own user: its folder is allowed for this import
        # only (a server reads replay files from its spaces and replay dirs alone).
        allowed = settings.model_copy(update={"replay_dirs": [*settings.replay_dirs, path.resolve().parent]})
        try:
            job = import_kernel_tuner_cache(allowed, path)
        except UserInputError as exc:
            fail(str(exc))
        best = (job.result or {}).get("best")
        err.print(f"{path}: job {job.id}, {job.n_trials} trials of {job.target} measured on "
                  f"{job.options['imported_from']['device_name']}"
                  + (f", best {best['values'][0]:.6g} ms" if best else ", none timed"), soft_wrap=True)
