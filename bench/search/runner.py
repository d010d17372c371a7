"""Running many searches (spaces x methods x seeds x parallelisms) across processes."""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, replace
from pathlib import Path

from tuneforge.evaluators.devices.replay import load_recorded_space
from tuneforge.bench.search.kt_run import plain_json, run_kernel_tuner
from tuneforge.bench.search.replay_run import Trace, as_source, run_tuneforge
from tuneforge.search.transfer import SourceHistory
from tuneforge.bench.search.stats import RunKey

TUNEFORGE, KERNEL_TUNER = "tuneforge", "kernel_tuner"


@dataclass(frozen=True)
class RunSpec:
    path: Path
    json_path: Path  # the same file unpacked, for Kernel Tuner
    tool: str
    strategy: str
    seed: int
    budget: int
    parallel: int
    refill: str = "batch"
    siblings: tuple[Path, ...] = ()  # transfer mode: the spaces tuned first into the database
    sources: tuple[SourceHistory, ...] = ()  # ... and what their runs left there

    @property
    def key(self) -> RunKey:
        return RunKey(space=space_name(self.path), method=f"{self.tool}:{self.strategy}", parallel=self.parallel,
                      seed=self.seed, refill=self.refill, mode="transfer" if self.siblings else "cold")

    def cold_key(self) -> RunKey:
        return replace(self.key, mode="cold")


def space_name(path: Path) -> str:
    return path.name.removesuffix(".gz").removesuffix(".json")


def run_one(spec: RunSpec) -> tuple[RunKey, Trace]:
    if spec.tool == TUNEFORGE:
        return spec.key, run_tuneforge(spec.path, spec.strategy, spec.seed, spec.budget, spec.parallel, spec.refill,
                                       sources=spec.sources)
    return spec.key, run_kernel_tuner(spec.json_path, load_recorded_space(spec.path), spec.strategy, spec.seed,
                                      spec.budget)


def siblings(path: Path, paths: list[Path]) -> tuple[Path, ...]:
    """The other files among ``paths`` that measured the same kernel (same name and parameters)."""
    own = load_recorded_space(path)
    return tuple(p for p in paths if p != path
                 and load_recorded_space(p).kernel_name == own.kernel_name
                 and [q.name for q in load_recorded_space(p).params] == [q.name for q in own.params])


def plan(paths: list[Path], strategies: list[str], kt_strategies: list[str], seeds: int, budget: int,
         parallels: list[int], scratch: Path, refills: tuple[str, ...] = ("batch",),
         modes: tuple[str, ...] = ("cold",)) -> list[RunSpec]:
    # With one worker both refills are the same search: it runs once, as "batch".
    workers = [(p, r) for p in parallels for r in (("batch",) if p == 1 else refills)]
    specs = []
    for path in paths:
        # Unpacked here, once, before any worker process needs it.
        json_path = plain_json(path, scratch) if kt_strategies else path
        related = siblings(path, paths) if "transfer" in modes else ()
        for seed in range(seeds):
            # Transfer runs learn from the cold runs of the sibling files: those are made either way.
            specs += [RunSpec(path, json_path, TUNEFORGE, s, seed, budget, p, r)
                      for s in strategies for p, r in workers]
            if related:
                specs += [RunSpec(path, json_path, TUNEFORGE, s, seed, budget, 1, siblings=related)
                          for s in strategies]
            specs += [RunSpec(path, json_path, KERNEL_TUNER, s, seed, budget, 1) for s in kt_strategies]
    return specs


def with_sources(specs: list[RunSpec], cold: dict[RunKey, Trace]) -> list[RunSpec]:
    """Transfer runs given the histories their siblings' cold runs (same strategy and seed) left."""
    return [replace(s, sources=tuple(as_source(p, cold[replace(s, path=p, siblings=()).key]) for p in s.siblings))
            for s in specs]


def run_all(specs: list[RunSpec], workers: int, on_done: Callable[[RunSpec], None] = lambda spec: None
            ) -> dict[RunKey, Trace]:
    traces: dict[RunKey, Trace] = {}
    for spec, key, trace in _execute(specs, workers):
        traces[key] = trace
        on_done(spec)
    return traces


def _execute(specs: list[RunSpec], workers: int) -> Iterator[tuple[RunSpec, RunKey, Trace]]:
    if workers <= 1:
        for spec in specs:
            yield (spec, *run_one(spec))
        return
    # One BLAS thread per process: the processes already use every core. Fresh (spawned)
    # processes read these at start-up; forked ones would inherit the parent's thread pool.
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    with ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("spawn")) as pool:
        futures = {pool.submit(run_one, spec): spec for spec in specs}
        for future in as_completed(futures):
            yield (futures[future], *future.result())


def best_times(paths: list[Path]) -> dict[str, float]:
    return {space_name(p): load_recorded_space(p).best_time_ms for p in paths}
