"""The export as the CLI and the REST route both serve it: a target's best configs in one format."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from tuneforge.api.export.kernel_tuner import kernel_tuner_cache
from tuneforge.api.export.module import render_module
from tuneforge.api.export.records import best_record, to_jsonl
from tuneforge.api.export.triton_configs import render_triton_configs
from tuneforge.core.errors import NotFoundError, UserInputError
from tuneforge.db.store import JobStore
from tuneforge.kernels.bundle import BundleTarget, owner_of, parse_bundle
from tuneforge.kernels.registry import get_target

FORMATS = {"py": "text/x-python; charset=utf-8", "jsonl": "application/x-ndjson",
           "triton": "text/x-python; charset=utf-8", "kt": "application/json"}


@dataclass(frozen=True)
class Export:
    text: str
    media_type: str
    filename: str
    provenance: dict[str, int]  # how many exported configs are measured, replayed, modelled

    def summary(self) -> str:
        counts = ", ".join(f"{n} {p}" for p, n in sorted(self.provenance.items())) or "none tuned yet"
        return f"{sum(self.provenance.values())} tuned config(s): {counts}"


def export_target(store: JobStore, target: str, *, device: str | None = None, fmt: str = "py") -> Export:
    if fmt not in FORMATS:
        raise UserInputError(f"unknown export format {fmt!r}; use {' or '.join(FORMATS)}")
    records = [best_record(r) for r in store.best_configs(target=target, device=device)]
    provenance = dict(Counter(r["provenance"] for r in records))
    if fmt == "jsonl":
        _require(records, target, device)
        return Export(to_jsonl(records), FORMATS[fmt], f"{target}_best.jsonl", provenance)
    if fmt == "triton":
        _require(records, target, device)
        return Export(render_triton_configs(target, records), FORMATS[fmt], f"{target}_configs.py", provenance)
    if fmt == "kt":
        return _kernel_tuner_export(store, target, device, records)
    try:
        kernel = _submitted_bundle(store, target, records) if owner_of(target) else get_target(target)
    except UserInputError as exc:
        if not records:
            raise
        raise UserInputError(f"{target!r} has no Triton source to export as Python (its device brings it); "
                             "use format jsonl for its best configs") from exc
    text = render_module(kernel, records)
    provenance = dict(Counter(r["provenance"] for r in records if not r["custom_source"]))
    return Export(text, FORMATS[fmt], f"{target}_tuned.py", provenance)


def _submitted_bundle(store: JobStore, target: str, records: list[dict]) -> BundleTarget:
    """A bundle target's kernel, from the stored document of the job behind its best config (data, not run)."""
    _require(records, target, None)
    owner = owner_of(target)
    assert owner is not None
    job = store.get_job(records[0]["job_id"])
    return BundleTarget(parse_bundle(store.bundle_document(owner, job.bundle_sha256)), owner=owner)


def _require(records: list[dict], target: str, device: str | None) -> None:
    if not records:
        where = f" on {device}" if device else ""
        raise NotFoundError(f"no best configs for {target!r}{where} yet: run `tuneforge tune {target}`")


def _kernel_tuner_export(store: JobStore, target: str, device: str | None, records: list[dict]) -> Export:
    """The trials of the job behind the best config: one Kernel Tuner cache is one problem on one device."""
    _require(records, target, device)
    if len(records) > 1:
        found = ", ".join(f"{r['problem']} on {r['device']}" for r in records)
        raise UserInputError(f"a Kernel Tuner cache holds one problem on one device; {target!r} has {found}: "
                             "pass --device (and tune one problem per device)")
    [record] = records
    trials = store.trials(record["job_id"])
    text = kernel_tuner_cache(target, records, trials, record["device_name"])
    return Export(text, FORMATS["kt"], f"{target}_{record['device'].replace(':', '_')}.json",
                  {record["provenance"]: 1})
