"""``agent``: an LLM proposes every batch while its budget lasts: configs with a reason each, and
(on devices that run source) new Triton kernel variants; TPE carries on from all trials after."""

from __future__ import annotations

from collections.abc import Sequence

import optuna

from tuneforge.core.types import Candidate
from tuneforge.search.strategies._agent_session import AgentSession
from tuneforge.search.strategies._base import HistoryItem, Strategy, StrategyContext


class AgentStrategy(Strategy):
    name = "agent"
    description = "LLM agents propose configs (with reasons) and write kernel variants; TPE after the budget"
    needs_llm = True

    def __init__(self) -> None:
        self._session: AgentSession | None = None
        self._kernel_turn = False  # with one slot per batch, configs and kernels take turns

    def sampler(self, ctx: StrategyContext) -> optuna.samplers.BaseSampler:
        return optuna.samplers.TPESampler(seed=ctx.seed, multivariate=True, constant_liar=ctx.parallelism > 1)

    def propose(self, ctx: StrategyContext, history: list[HistoryItem], n: int,
                pending: Sequence[Candidate] = ()) -> list[Candidate]:
        if self._session is None:
            self._session = AgentSession(ctx, strategy=self.name)
        session = self._session
        out: list[Candidate] = []
        if (n > 1 or self._kernel_turn) and session.kernel_ready():
            kernel = session.kernel(history)
            out += [kernel] if kernel else []
        self._kernel_turn = not self._kernel_turn
        return out + session.configs(history, n - len(out))


STRATEGIES = [AgentStrategy]
