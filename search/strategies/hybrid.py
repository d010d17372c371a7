"""``hybrid``: the LLM proposes structure and seeds, TPE refines the numbers.

The config agent seeds the study once; from then on the structural (non-numeric) parameters
are pinned to those of the best trial so far and TPE searches the numeric ones. On devices that
run source, the kernel agent writes a new variant every few batches.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import optuna

from tuneforge.core.types import Candidate
from tuneforge.search.strategies._agent_session import AgentSession
from tuneforge.search.strategies._base import HistoryItem, Strategy, StrategyContext


class HybridStrategy(Strategy):
    name = "hybrid"
    description = "LLM seeds and structure, TPE refines the numeric parameters"
    needs_llm = True

    def __init__(self) -> None:
        self._session: AgentSession | None = None
        self._pinned: dict[str, object] = {}  # read by the sampler at every draw
        self._seeds: list[Candidate] | None = None
        self._batches = 0

    def sampler(self, ctx: StrategyContext) -> optuna.samplers.BaseSampler:
        tpe = optuna.samplers.TPESampler(seed=ctx.seed, multivariate=True, constant_liar=ctx.parallelism > 1,
                                         n_startup_trials=min(10, max(1, ctx.budget_trials // 5)))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
            return optuna.samplers.PartialFixedSampler(self._pinned, tpe)

    def propose(self, ctx: StrategyContext, history: list[HistoryItem], n: int,
                pending: Sequence[Candidate] = ()) -> list[Candidate]:
        if self._session is None:
            self._session = AgentSession(ctx, strategy=self.name)
        session = self._session
        if self._seeds is None:
            self._seeds = session.configs(history, int(ctx.options.get("hybrid_seeds", max(n, 4))))
        self._pin_structure(ctx, history)
        out: list[Candidate] = []
        every = int(ctx.options.get("hybrid_kernel_every", 3))
        if self._batches % every == every - 1 and session.kernel_ready():
            kernel = session.kernel(history)
            out += [kernel] if kernel else []
        self._batches += 1
        while self._seeds and len(out) < n:
            out.append(self._seeds.pop(0))
        return out

    def _pin_structure(self, ctx: StrategyContext, history: list[HistoryItem]) -> None:
        ok = [h for h in history if h.result.objective_values(ctx.objectives) is not None]
        if not ok:
            return
        sign = 1 if ctx.objectives[0].direction == "minimize" else -1
        best = min(ok, key=lambda h: sign * h.result.objective_values(ctx.objectives)[0])
        self._pinned.clear()
        self._pinned.update({p.name: best.candidate.params[p.name] for p in ctx.space.params if not p.ordinal})


STRATEGIES = [HybridStrategy]
