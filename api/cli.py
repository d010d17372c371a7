"""The ``tuneforge`` command line."""

from __future__ import annotations

import importlib
import json
import os
import pkgutil
import platform
from typing import Any, Optional

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from tuneforge.api import commands
from tuneforge.api.console import err, fail, format_metrics, format_params, out, print_json, provenance_label
from tuneforge.api.schemas import BestConfigPublic, JobPublic, TrialPublic, public
from tuneforge.core.errors import ConflictError, NotFoundError, UserInputError
from tuneforge.core.settings import get_settings
from tuneforge.db.records import JobRecord

app = typer.Typer(no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False,
                  help="Autotune compute kernels, quantization layouts and accelerator designs.")
bench = typer.Typer(no_args_is_help=True, help="Benchmarks that print ratios measured side by side.")
db_app = typer.Typer(no_args_is_help=True, help="Database maintenance.")
app.add_typer(bench, name="bench")
app.add_typer(db_app, name="db")

DeviceOpt = typer.Option(..., "--device", "-d", help="cpu, cuda, sim:h100, sim:systolic, replay:FILE "
                         "(`tuneforge devices` lists them)")


def _job_request(target, device, shape, dtype, strategy, trials, seconds, seed, parallel, objectives,
                 constraint, workload, model, option, bundle=None) -> dict[str, Any]:
    from tuneforge.api.bundle_files import read_bundle

    extra = {k: v for k, v in (("workload", workload), ("model", model)) if v is not None}
    request = dict(target=target, device=device, shape=shape, dtype=dtype, strategy=strategy, trials=trials,
                   seconds=seconds, seed=seed, parallelism=parallel, extra=extra or None,
                   objectives=[o.strip() for o in objectives.split(",")] if objectives else None,
                   constraints=constraint or None, options=_parse_options(option))
    if bundle is not None:
        request["bundle"] = read_bundle(bundle)
    return request


BundleOpt = typer.Option(None, "--bundle", help="a kernel bundle instead of TARGET: a JSON file, or a folder with "
                                                "bundle.json, kernel.py and reference.py (docs/user-targets.md)")


def _parse_options(pairs: list[str] | None) -> dict[str, Any] | None:
    """``KEY=VALUE`` strategy options; a value is read as JSON (true, 3, 0.5) and else kept as text."""
    options: dict[str, Any] = {}
    for pair in pairs or []:
        name, sep, text = pair.partition("=")
        if not sep or not name.strip():
            fail(f"--option {pair!r}: write KEY=VALUE, e.g. --option transfer=false")
        try:
            options[name.strip()] = json.loads(text)
        except ValueError:
            options[name.strip()] = text
    return options or None


OptionOpt = typer.Option(None, "--option", help="strategy option KEY=VALUE, repeatable "
                                                "(`tuneforge strategies` lists each strategy's options)")


@app.command()
def tune(target: Optional[str] = typer.Argument(None, help="target name; omit for a replay device"),
         device: str = DeviceOpt,
         shape: Optional[str] = typer.Option(None, help="problem shape, e.g. M=4096,N=4096,K=4096"),
         dtype: Optional[str] = typer.Option(None, help="fp16, bf16, fp32, ..."),
         strategy: str = typer.Option("bandit", help="see `tuneforge strategies`"),
         trials: int = typer.Option(100, help="trial budget"),
         seconds: Optional[float] = typer.Option(None, help="time budget in charged device seconds"),
         seed: int = typer.Option(0, help="same seed, device and budget: same trials"),
         parallel: int = typer.Option(1, help="candidates evaluated at once"),
         objectives: Optional[str] = typer.Option(None, help="comma-separated metrics, e.g. latency,energy,area"),
         constraint: Optional[list[str]] = typer.Option(None, help="METRIC<=BOUND, repeatable"),
         workload: Optional[str] = typer.Option(None, help="accelerator workload (accel targets)"),
         model: Optional[str] = typer.Option(None, help="model to quantize (quant targets)"),
         from_autotune: Optional[str] = typer.Option(None, "--from-autotune", help="module:kernel: tune TARGET "
                                                     "over that triton.autotune kernel's config list"),
         option: Optional[list[str]] = OptionOpt, bundle: Optional[str] = BundleOpt,
         as_json: bool = typer.Option(False, "--json", help="print one JSON object and no progress bar")) -> None:
    """Run a tuning job here and now (embedded mode) and print the best config."""
    from tuneforge.api.submit import submit_job
    from tuneforge.kernels._from_autotune import autotuned_name
    from tuneforge.worker.jobs import run_job_embedded

    settings = get_settings().model_copy(update={"broker_url": None})
    try:
        target = autotuned_name(target, from_autotune)
        job_id = submit_job(settings, _job_request(target, device, shape, dtype, strategy, trials, seconds, seed,
                                                   parallel, objectives, constraint, workload, model, option, bundle))
    except UserInputError as exc:
        fail(str(exc))
    with _progress(trials, disable=as_json) as (progress, task):
        def on_trial(_job: JobRecord, trial: dict[str, Any]) -> None:
            best = trial["best_value"]
            progress.update(task, advance=1, best="-" if best is None else f"{best:.6g}")

        job = run_job_embedded(job_id, settings, on_trial=on_trial)
    _report_job(public(JobPublic, job), as_json)


def _progress(total: int, disable: bool):
    progress = Progress(TextColumn("[bold]tuning"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                        TextColumn("best {task.fields[best]}"), console=err, disable=disable)

    class _Ctx:
        def __enter__(self):
            progress.start()
            return progress, progress.add_task("tune", total=total, best="-")

        def __exit__(self, *exc):
            progress.stop()

    return _Ctx()


def _report_job(job: dict[str, Any], as_json: bool) -> None:
    result = job.get("result") or {}
    best = result.get("best")
    if as_json:
        print_json({"job_id": job["id"], "status": job["status"], "target": job["target"], "device": job["device"],
                    "problem": job["problem_key"], "strategy": job["strategy"], "seed": job["seed"],
                    "n_trials": job["n_trials"], "objectives": result.get("objectives"), "best": best,
                    "pareto_front": result.get("pareto_front"), "baseline": job.get("baseline"),
                    "speedup_vs_baseline": result.get("speedup_vs_baseline"), "error": job.get("error")})
    else:
        out.print(f"job [bold]{job['id']}[/bold] {job['status']}: {job['n_trials']} trials of {job['target']} "
                  f"({job['problem_key']}) on {job['device']}")
        if job.get("error"):
            out.print(f"[red]{job['error']}[/red]")
        verified = result.get("verified_only", 0)
        if best is None and verified:
            out.print(f"{verified} of {job['n_trials']} configs verified correct "
                      f"({provenance_label('verified-only')}: this device checks correctness, it does not time)")
        elif best is None:
            out.print("no candidate passed: see the trials with `tuneforge trials " + job["id"] + "`")
        else:
            if result.get("pareto_front"):
                _pareto_table(result)
                out.print(f"({provenance_label(best['provenance'])}, {best['device_name']})")
                return _exit_status(job)
            out.print(f"best {result['objectives'][0]}: [bold]{best['values'][0]:.6g}[/bold] "
                      f"({provenance_label(best['provenance'])}, {best['device_name']})")
            out.print(f"best config: {format_params(best['params'])}")
            out.print(f"its metrics: {format_metrics(best['metrics'])}")
            if result.get("speedup_vs_baseline"):
                out.print(f"improvement over the baseline ({result['objectives'][0]}, "
                          f"{provenance_label(job['baseline']['provenance'])}): "
                          f"{result['speedup_vs_baseline']:.3f}x")
                out.print(f"baseline metrics: {format_metrics(job['baseline']['metrics'])}")
                if job["baseline"].get("log"):
                    out.print(f"[dim]{job['baseline']['log']}[/dim]")
    _exit_status(job)


def _exit_status(job: dict[str, Any]) -> None:
    if job["status"] == "failed":
        raise SystemExit(1)


def _pareto_table(result: dict[str, Any]) -> None:
    table = Table(title="Pareto front")
    table.add_column("trial")
    for name in result["objectives"]:
        table.add_column(name, justify="right")
    table.add_column("config")
    for point in result["pareto_front"]:
        table.add_row(str(point["number"]), *(f"{v:.5g}" for v in point["values"]), format_params(point["params"]))
    out.print(table)


@app.command()
def targets(as_json: bool = typer.Option(False, "--json")) -> None:
    """List what can be tuned."""
    from tuneforge.kernels.registry import all_targets

    rows = [{"name": t.name, "family": t.family, "dims": list(t.dims), "dtypes": list(t.dtypes),
             "objectives": [o.metric for o in t.objectives], "description": t.description}
            for t in all_targets().values()]
    if as_json:
        return print_json(rows)
    table = Table("target", "family", "shape", "dtypes", "objectives", "description")
    for r in rows:
        table.add_row(r["name"], r["family"], ",".join(r["dims"]), ",".join(r["dtypes"]), ",".join(r["objectives"]),
                      r["description"])
    out.print(table)
    out.print("Replay devices bring their own target: `tuneforge devices` lists them.")


@app.command()
def devices(as_json: bool = typer.Option(False, "--json")) -> None:
    """List where candidates can be evaluated, and whether their numbers are measured or modelled."""
    from tuneforge.evaluators.registry import known_specs, resolve_device

    settings = get_settings()
    rows = []
    for spec in known_specs(settings):
        try:
            rows.append(resolve_device(spec, settings).describe())
        except UserInputError as exc:
            rows.append({"spec": spec, "queue": "-", "provenance": "-", "hardware": f"unavailable: {exc}",
                         "families": []})
    from tuneforge.worker.availability import add_live_workers

    add_live_workers(settings, rows)
    if as_json:
        return print_json(rows)
    table = Table("device", "numbers are", "hardware", "targets", "queue", "live workers")
    for r in rows:
        table.add_row(r["spec"], r["provenance"], r["hardware"], ",".join(r["families"]), r["queue"],
                      ", ".join(r["live_workers"]) if "live_workers" in r else "this process (embedded)")
    out.print(table)


@app.command()
def strategies() -> None:
    """List the search strategies."""
    from tuneforge.search.strategies import all_strategies

    table = Table("strategy", "objectives", "description")
    for s in all_strategies().values():
        table.add_row(s.name, "several" if s.multi_objective else "one", s.description)
    out.print(table)


@app.command()
def serve(host: Optional[str] = typer.Option(None), port: Optional[int] = typer.Option(None)) -> None:
    """Serve the REST API and dashboard (embedded mode also runs queued jobs in this process)."""
    import uvicorn

    from tuneforge.api.app import create_app

    from tuneforge.api.app import is_loopback
    from tuneforge.db.accounts import KeyStore
    from tuneforge.db.session import ensure_schema

    settings = get_settings()
    host = host or settings.api_host
    ensure_schema(settings.database_url)
    if not KeyStore(settings.database_url).any_active():
        if not is_loopback(host):
            fail(f"refusing to serve on {host} without API keys: create one with `tuneforge keys create NAME "
                 "--scopes read,submit,cancel` (or bind to 127.0.0.1)")
        err.print("[yellow]no API key exists: serving OPEN on loopback (every local caller is admin); "
                  "`tuneforge keys create` closes it[/yellow]")
    settings = settings.model_copy(update={"api_host": host})
    uvicorn.run(create_app(settings), host=host, port=port or settings.api_port, log_level="info")


@app.command()
def worker(device: list[str] = typer.Option(["sim"], "--device", help="device kinds served: cuda, cpu, sim"),
           concurrency: int = typer.Option(2, help="evaluations run at once")) -> None:
    """Run a Celery worker that evaluates candidates (distributed mode: TUNEFORGE_BROKER_URL must be set;
    job loops run in `tuneforge scheduler`). Its pool is always prefork: the evaluation time limit is
    enforced by killing an overrunning evaluation's process, which only prefork does."""
    from tuneforge.worker.celery_app import DEVICE_QUEUES, eval_queue
    from tuneforge.worker.supervise import supervise_worker

    settings = get_settings()
    if not settings.distributed:
        fail("a worker needs a broker: set TUNEFORGE_BROKER_URL=redis://HOST:6379/0 "
             "(and TUNEFORGE_DATABASE_URL=postgresql://...)")
    unknown = [d for d in device if d not in DEVICE_QUEUES]
    if unknown:
        fail(f"unknown device kind(s) {unknown}; use {', '.join(DEVICE_QUEUES)}")
    from tuneforge.db.session import ensure_schema

    ensure_schema(settings.database_url)
    # A node name of its own per process: several workers on one host stay distinct.
    node = f"{'+'.join(device)}-{os.getpid()}@{platform.node()}"
    raise typer.Exit(supervise_worker(settings, [eval_queue(d) for d in device], node,
                                      ["--loglevel=INFO", f"--concurrency={concurrency}", "--pool=prefork",
                                       "--without-gossip", "--without-mingle"]))


@app.command()
def submit(target: Optional[str] = typer.Argument(None), device: str = DeviceOpt,
           shape: Optional[str] = typer.Option(None), dtype: Optional[str] = typer.Option(None),
           strategy: str = typer.Option("bandit"), trials: int = typer.Option(100),
           seconds: Optional[float] = typer.Option(None), seed: int = typer.Option(0),
           parallel: int = typer.Option(1), objectives: Optional[str] = typer.Option(None),
           constraint: Optional[list[str]] = typer.Option(None), workload: Optional[str] = typer.Option(None),
           model: Optional[str] = typer.Option(None), option: Optional[list[str]] = OptionOpt,
           bundle: Optional[str] = BundleOpt,
           url: str = typer.Option("http://127.0.0.1:8000", envvar="TUNEFORGE_API_URL", help="the tuneforge server"),
           key: Optional[str] = typer.Option(None, envvar="TUNEFORGE_API_KEY", help="API key (Bearer)"),
           wait: bool = typer.Option(False, "--wait", help="follow progress until the job ends"),
           as_json: bool = typer.Option(False, "--json")) -> None:
    """Submit a job to a running server over REST."""
    from tuneforge.api.client import follow_job, post_job

    try:
        request = _job_request(target, device, shape, dtype, strategy, trials, seconds, seed, parallel, objectives,
                               constraint, workload, model, option, bundle)
    except UserInputError as exc:
        fail(str(exc))
    job_id = post_job(url, request, key=key)
    if not wait:
        return print_json({"id": job_id}) if as_json else out.print(f"submitted job {job_id}")
    with _progress(trials, disable=as_json) as (progress, task):
        def on_progress(state: dict) -> None:
            best = state["best_value"]
            progress.update(task, completed=state["n_trials"], best="-" if best is None else f"{best:.6g}")

        job = follow_job(url, job_id, on_progress=on_progress, key=key)
    _report_job(job, as_json)


@app.command("jobs")
def list_jobs(status: Optional[str] = typer.Option(None), limit: int = typer.Option(20),
              as_json: bool = typer.Option(False, "--json")) -> None:
    """List recent jobs."""
    from tuneforge.db.store import JobStore

    rows = JobStore(get_settings().database_url).list_jobs(status=status, limit=limit)
    if as_json:
        return print_json([public(JobPublic, j) for j in rows])
    table = Table("id", "status", "target", "problem", "device", "strategy", "trials", "best", "created")
    for j in rows:
        table.add_row(j.id, j.status, j.target, j.problem_key, j.device, j.strategy,
                      f"{j.n_trials}/{j.budget_trials}", "-" if j.best_value is None else f"{j.best_value:.5g}",
                      f"{j.created_at:%Y-%m-%d %H:%M:%S}")
    out.print(table)


@app.command()
def trials(job_id: str, as_json: bool = typer.Option(False, "--json")) -> None:
    """Show a job's trials."""
    from tuneforge.db.store import JobStore

    store = JobStore(get_settings().database_url)
    try:
        store.get_job(job_id)
    except NotFoundError as exc:
        fail(str(exc))
    rows = store.trials(job_id)
    if as_json:
        return print_json([public(TrialPublic, t) for t in rows])
    table = Table("#", "status", "values", "numbers are", "origin", "config", "log")
    for t in rows:
        table.add_row(str(t.number), t.status, " ".join(f"{v:.5g}" for v in t.values or []),
                      t.provenance, t.origin, format_params(t.params), (t.log or "")[-60:])
    out.print(table)


@app.command()
def best(target: str, device: Optional[str] = typer.Option(None, "--device", "-d"),
         as_json: bool = typer.Option(False, "--json")) -> None:
    """Best configs of a target, per problem and device."""
    from tuneforge.db.store import JobStore

    rows = JobStore(get_settings().database_url).best_configs(target=target, device=device)
    if as_json:
        return print_json([public(BestConfigPublic, r) for r in rows])
    if not rows:
        fail(f"no best config for {target!r}{' on ' + device if device else ''} yet: run `tuneforge tune {target}`", 1)
    table = Table("problem", "device", "value", "numbers are", "config", "job", "strategy")
    for r in rows:
        table.add_row(r.problem_key, r.device, f"{r.value:.5g} {r.metric}",
                      provenance_label(r.provenance), format_params(r.params), r.job_id, r.strategy)
    out.print(table)


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Apply database migrations up to the newest."""
    from tuneforge.db.migrate import current, upgrade

    url = get_settings().database_url
    upgrade(url)
    out.print(f"database at revision {current(url)}")


def _register_command_modules() -> None:
    for info in pkgutil.iter_modules(commands.__path__):
        importlib.import_module(f"{commands.__name__}.{info.name}").register(app, bench)


_register_command_modules()


def main() -> None:
    try:
        app()
    except UserInputError as exc:
        fail(str(exc))
    except (NotFoundError, ConflictError) as exc:
        fail(str(exc), 1)
