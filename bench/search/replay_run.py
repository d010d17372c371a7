"""One tuneforge search on a replayed space, driven through the same engine jobs use."""

from __future__ import annotations

import heapq
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from tuneforge.core.settings import Settings
from tuneforge.core.types import Objective, TrialResult
from tuneforge.evaluators.registry import resolve_device, resolve_target
from tuneforge.search.engine import Proposal, SearchEngine
from tuneforge.search.strategies import get_strategy
from tuneforge.search.strategies._base import StrategyContext
from tuneforge.search.transfer import SourceHistory


@dataclass
class Trace:
    """What one search run found, trial by trial."""

    times_ms: list[float | None] = field(default_factory=list)  # None: the config failed
    wall_s: list[float] = field(default_factory=list)  # simulated wall clock when each trial was told
    configs: list[dict] = field(default_factory=list)  # what each trial ran (tuneforge runs only)


@lru_cache(maxsize=16)
def _replay(path: Path):
    """The replay device of a file, kept per process so its space (and pool) is built once."""
    settings = Settings(spaces_dir=path.parent)
    device = resolve_device(f"replay:{path}", settings)
    target = resolve_target(None, device)
    return settings, device, target, target.default_problem()


def run_tuneforge(path: Path, strategy: str, seed: int, budget: int, parallel: int = 1,
                  refill: str = "batch", sources: Sequence[SourceHistory] = ()) -> Trace:
    """``parallel`` simulated workers. ``batch``: ask for one candidate per worker, wait for all of
    them (the batch ends with its slowest candidate), ask again. ``async``: ask for one candidate
    as soon as a worker frees up, the others still running. ``sources``: histories of the same
    kernel on other GPUs, as a job finds them in the database."""
    settings, device, target, problem = _replay(path)
    ctx = StrategyContext(space=target.space(problem), objectives=[Objective("time_ms")], constraints=[],
                          seed=seed, parallelism=parallel, budget_trials=budget, target_name=target.name,
                          problem=problem, device=device.spec, job_id=f"bench-{seed}", settings=settings,
                          sources=list(sources))
    engine = SearchEngine(get_strategy(strategy), ctx)
    trace, clock = Trace(), 0.0
    running: list[tuple[float, int, Proposal, TrialResult]] = []  # heap by finish time
    started = 0
    while engine.n_told < budget:
        if refill == "async" or not running:
            for proposal in engine.ask(min(parallel - len(running), budget - started)):
                result = device.evaluate(target, problem, proposal.candidate)
                heapq.heappush(running, (clock + result.cost_s, started, proposal, result))
                started += 1
        if not running:
            break
        if refill == "async":
            done = [heapq.heappop(running)]  # told as it ends, the other workers still busy
        else:
            done, running = running, []  # the batch is told when its slowest candidate ends
        clock = max(finish for finish, *_ in done)
        for _, _, proposal, result in sorted(done, key=lambda d: d[1]):
            told = engine.tell(proposal, result)
            trace.times_ms.append(told.values[0] if told.values else None)
            trace.wall_s.append(clock)
            trace.configs.append(proposal.candidate.params)
    return trace


def as_source(path: Path, trace: Trace) -> SourceHistory:
    """A finished run on ``path`` as the database holds it for later jobs: its whole history."""
    _, device, _, _ = _replay(path)
    return SourceHistory(f"{device.hardware_name} ({path.name.split('.')[0]})", tuple(trace.configs),
                         tuple(trace.times_ms))
