"""The strategy interface: how candidates are proposed.

A strategy is an Optuna sampler (Optuna's ask/tell drives the loop) plus an
optional stream of whole candidates it wants evaluated first: warm-start configs
from the database, or an agent's proposals with kernel source and a reason.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

import optuna

from tuneforge.core.constraints import MetricConstraint
from tuneforge.core.settings import Settings
from tuneforge.core.space import Space
from tuneforge.core.types import Candidate, Objective, Problem, TrialResult


@dataclass
class StrategyContext:
    space: Space
    objectives: list[Objective]
    constraints: list[MetricConstraint]
    seed: int
    parallelism: int
    budget_trials: int
    target_name: str
    problem: Problem
    device: str
    job_id: str
    settings: Settings
    options: dict[str, Any] = field(default_factory=dict)
    # Histories of the same target on other devices and problems (``search/transfer.py``).
    sources: list[Any] = field(default_factory=list)


@dataclass
class HistoryItem:
    number: int
    candidate: Candidate
    result: TrialResult


class Strategy(ABC):
    name: ClassVar[str]
    description: ClassVar[str] = ""
    multi_objective: ClassVar[bool] = False  # can optimise several objectives at once
    needs_llm: ClassVar[bool] = False  # refused at submit time when no LLM endpoint is configured

    @abstractmethod
    def sampler(self, ctx: StrategyContext) -> optuna.samplers.BaseSampler:
        """The Optuna sampler for this job."""

    # The transfer weights last stored on the job (``search/transfer_sources.py``).
    transfer_recorded: list[dict[str, Any]] | None = None

    def transfer_report(self) -> list[Any]:
        """The database histories this strategy learned from and their current weights
        (``search/transfer.py``'s ``SourceWeight``); empty when it uses none."""
        return []

    def propose(self, ctx: StrategyContext, history: list[HistoryItem], n: int,
                pending: Sequence[Candidate] = ()) -> list[Candidate]:
        """Whole candidates to evaluate before asking the sampler (at most ``n``); ``pending`` are
        candidates handed out earlier whose results have not arrived yet."""
        return []
