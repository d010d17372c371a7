"""A synthetic constrained space with a known landscape, and an in-process evaluator."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tuneforge.core.settings import Settings
from tuneforge.core.space import Constraint, Param, Space
from tuneforge.core.types import Objective, Problem, TrialResult, TrialStatus
from tuneforge.evaluators.run import evaluate_candidate
from tuneforge.search.engine import SearchEngine
from tuneforge.search.strategies import get_strategy
from tuneforge.search.strategies._base import StrategyContext


def grid_space() -> Space:
    """16 x 16 x 4 points; the constraint forbids x + y > 24 (about a fifth of the product)."""
    return Space([Param("x", tuple(range(16))), Param("y", tuple(range(16))), Param("z", (1, 2, 4, 8))],
                 constraints=[Constraint("x + y <= 24", lambda c: c["x"] + c["y"] <= 24)])


def bowl(config: dict) -> TrialResult:
    """A smooth landscape with its minimum at x=5, y=9, z=4; x >= 10 fails to compile."""
    if config["x"] >= 10:
        return TrialResult.failure(TrialStatus.COMPILE_ERROR, "too many registers", cost_s=1.0)
    time_ms = 1.0 + (config["x"] - 5) ** 2 + 0.5 * (config["y"] - 9) ** 2 + abs(config["z"] - 4)
    energy = 100.0 / time_ms + config["z"]
    return TrialResult(TrialStatus.OK, metrics={"time_ms": time_ms, "energy_j": energy}, cost_s=1.0)


def context(space: Space, *, seed: int = 0, parallelism: int = 1, objectives: tuple[str, ...] = ("time_ms",),
            budget: int = 40, options: dict | None = None) -> StrategyContext:
    return StrategyContext(space=space, objectives=[Objective(o) for o in objectives], constraints=[], seed=seed,
                           parallelism=parallelism, budget_trials=budget, target_name="synthetic",
                           problem=Problem(), device="synthetic", job_id="test", settings=Settings(),
                           options=options or {})


def run_engine(strategy: str, ctx: StrategyContext, trials: int,
               evaluate: Callable[[dict], TrialResult] = bowl) -> SearchEngine:
    engine = SearchEngine(get_strategy(strategy), ctx)
    while engine.n_told < trials:
        batch = engine.ask(min(ctx.parallelism, trials - engine.n_told))
        assert batch, "the engine ran out of candidates"
        for proposal in batch:
            engine.tell(proposal, evaluate(proposal.candidate.params))
    return engine


class InProcessEvaluator:
    """The loop's evaluator without a process pool; ``kill_after`` simulates a worker dying mid-job."""

    def __init__(self, settings: Settings, kill_after: int | None = None) -> None:
        self.settings = settings
        self.kill_after = kill_after
        self.calls = 0

    def session(self, job_id: str, device: str, target: str, problem: dict[str, Any]) -> InProcessSession:
        self.last_session = InProcessSession(self, device, target, problem)
        return self.last_session

    def baseline(self, job_id: str, device: str, target: str, problem: dict[str, Any]) -> dict[str, Any] | None:
        return None

    def close(self) -> None:
        pass


class InProcessSession:
    """Evaluates each submitted candidate when asked to wait, in submission order."""

    def __init__(self, evaluator: InProcessEvaluator, device: str, target: str, problem: dict[str, Any]) -> None:
        self.evaluator = evaluator
        self.args = (device, target, problem)
        self.queued: list[tuple[int, dict[str, Any]]] = []
        self.in_flight_at_wait: list[int] = []  # how many candidates were out at each wait

    @property
    def in_flight(self) -> int:
        return len(self.queued)

    def submit(self, key: int, candidate: dict[str, Any]) -> None:
        self.queued.append((key, candidate))

    def close(self) -> None:
        pass

    def wait(self, timeout: float) -> list[tuple[int, dict[str, Any]]]:
        self.in_flight_at_wait.append(len(self.queued))
        key, candidate = self.queued.pop(0)
        if self.evaluator.kill_after is not None and self.evaluator.calls >= self.evaluator.kill_after:
            raise WorkerKilled
        self.evaluator.calls += 1
        return [(key, evaluate_candidate(*self.args, candidate, self.evaluator.settings.model_dump()))]


class WorkerKilled(BaseException):
    """Not an Exception: like SIGKILL, the loop gets no chance to mark the job failed."""
