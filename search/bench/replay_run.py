"""One tuneforge search on a replayed space, driven through the same engine jobs use."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from core.settings import Settings
from core.types import Objective
from evaluators.registry import resolve_device, resolve_target
from search.engine import SearchEngine
from search.strategies import get_strategy
from search.strategies._base import StrategyContext


@dataclass
class Trace:
    """What one search run found, trial by trial."""

    times_ms: list[float | None] = field(default_factory=list)  # None: the config failed
    wall_s: list[float] = field(default_factory=list)  # simulated wall clock when each trial's batch ended


@lru_cache(maxsize=16)
def _replay(path: Path):
    """The replay device of a file, kept per process so its space (and pool) is built once."""
    settings = Settings(spaces_dir=path.parent)
    device = resolve_device(f"replay:{path}", settings)
    target = resolve_target(None, device)
    return settings, device, target, target.default_problem()


def run_tuneforge(path: Path, strategy: str, seed: int, budget: int, parallel: int = 1) -> Trace:
    settings, device, target, problem = _replay(path)
    ctx = StrategyContext(space=target.space(problem), objectives=[Objective("time_ms")], constraints=[],
                          seed=seed, parallelism=parallel, budget_trials=budget, target_name=target.name,
                          problem=problem, device=device.spec, job_id=f"bench-{seed}", settings=settings)
    engine = SearchEngine(get_strategy(strategy), ctx)
    trace, clock = Trace(), 0.0
    while engine.n_told < budget:
        batch = engine.ask(min(parallel, budget - engine.n_told))
        if not batch:
            break
        results = [device.evaluate(target, problem, p.candidate) for p in batch]
        # N workers evaluate a batch at once: it ends when its slowest candidate does.
        clock += max(r.cost_s for r in results)
        for proposal, result in zip(batch, results):
            told = engine.tell(proposal, result)
            trace.times_ms.append(told.values[0] if told.values else None)
            trace.wall_s.append(clock)
    return trace
