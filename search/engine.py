"""The search core without a database: ask a batch of candidates, tell their results.

``TuningLoop`` wraps it with persistence, leases and cancellation; ``tuneforge bench
search`` drives it directly against replayed spaces, so the benchmark measures exactly
the proposals jobs get.

Where candidates come from, in order: warm-start configs (best configs of related jobs,
given by the caller), the strategy's own proposals, then its Optuna sampler. Configs the
space forbids or that were already evaluated are never handed out: when the sampler proposes
one, the nearest valid unseen config takes its place. The sampler is asked once per candidate,
never again for the same slot: each ask fits its model over the whole history, and on a
constrained space asking until it hit a valid unseen config cost about ten asks per trial.
"""

from __future__ import annotations

import hashlib
import itertools
import random
from dataclasses import dataclass, field

import numpy as np
import optuna

from tuneforge.core.types import Candidate, TrialResult, TrialStatus
from tuneforge.db.records import TrialRecord
from tuneforge.search.encoding import decode, distributions, encode
from tuneforge.search.pool import pool_for
from tuneforge.search.strategies._base import HistoryItem, Strategy, StrategyContext

optuna.logging.set_verbosity(optuna.logging.WARNING)


@dataclass
class Proposal:
    trial: optuna.trial.Trial
    candidate: Candidate


@dataclass
class Told:
    """A result as the engine judged it; ``number`` is the trial's position in the job."""

    number: int
    values: list[float] | None
    feasible: bool
    better: bool


@dataclass
class _State:
    seen: dict[tuple, TrialResult] = field(default_factory=dict)  # by identity (see ``SearchEngine.identity``)
    history: list[HistoryItem] = field(default_factory=list)
    next_number: int = 0
    spent_s: float = 0.0
    best_value: float | None = None
    pending: dict[tuple, Candidate] = field(default_factory=dict)  # asked, not yet told; by identity


class SearchEngine:
    def __init__(self, strategy: Strategy, ctx: StrategyContext, *, warm_start: list[Candidate] = ()) -> None:
        self.strategy = strategy
        self.ctx = ctx
        self.space = ctx.space
        self.warm_start = list(warm_start)
        self.study = optuna.create_study(directions=[o.direction for o in ctx.objectives],
                                         sampler=strategy.sampler(ctx))
        self.dists = distributions(self.space)
        self.state = _State()
        self.rng = random.Random(ctx.seed * 7919)

    # -- read-only views ------------------------------------------------------------------------
    @property
    def n_told(self) -> int:
        return self.state.next_number

    @property
    def spent_s(self) -> float:
        return self.state.spent_s

    @property
    def best_value(self) -> float | None:
        return self.state.best_value

    @property
    def history(self) -> list[HistoryItem]:
        return self.state.history

    # -- ask ------------------------------------------------------------------------------------
    def ask(self, want: int) -> list[Proposal]:
        """Up to ``want`` distinct, unseen, valid candidates (fewer only when the space runs out).

        Candidates asked earlier and not told yet are pending: nothing asked repeats them, and
        the strategy sees them, so asking one at a time as each worker frees up works as well
        as asking for whole batches.
        """
        batch: list[Proposal] = []
        in_batch: set[tuple] = set(self.state.pending)

        def fresh(cand: Candidate) -> bool:
            identity = self.identity(cand)
            return self.space.is_valid(cand.params) and identity not in self.state.seen and identity not in in_batch

        def enqueue(cand: Candidate) -> None:
            self.study.enqueue_trial(encode(self.space, cand.params), skip_if_exists=False)
            batch.append(Proposal(self.study.ask(self.dists), cand))
            in_batch.add(self.identity(cand))

        for cand in self.warm_start:
            if len(batch) < want and fresh(cand):
                enqueue(Candidate(cand.params, cand.source, origin="warm-start", note=cand.note))
        if len(batch) < want:
            pending = [*self.state.pending.values(), *(p.candidate for p in batch)]
            for cand in self.strategy.propose(self.ctx, self.state.history, want - len(batch), pending=pending):
                if len(batch) < want and fresh(cand):
                    enqueue(cand)
        while len(batch) < want:
            trial = self.study.ask(self.dists)
            sampler = type(self.study.sampler).__name__
            cand = Candidate(decode(self.space, trial.params), origin=sampler)
            if fresh(cand):
                batch.append(Proposal(trial, cand))
                in_batch.add(self.identity(cand))
                continue
            # The rejected ask becomes a failed trial, which samplers leave out of their models, and
            # the valid unseen config closest to what the sampler wanted takes its place.
            self.study.tell(trial, state=optuna.trial.TrialState.FAIL)
            config = self._nearest_unseen(cand.params, in_batch)
            if config is None:
                break
            enqueue(Candidate(config, origin=sampler, note="nearest valid unseen config to the sampler's proposal"))
        self.state.pending.update((self.identity(p.candidate), p.candidate) for p in batch)
        return batch

    def identity(self, cand: Candidate) -> tuple:
        """What makes two candidates the same evaluation: the config, and the kernel source when an
        agent wrote one (a new variant at an already-tried config is a new candidate)."""
        digest = hashlib.sha256(cand.source.encode()).hexdigest() if cand.source is not None else None
        return (*self.space.key(cand.params), digest)

    def _nearest_unseen(self, config: dict, in_batch: set[tuple]) -> dict | None:
        """The valid config nearest to ``config`` (ties drawn at random) among those neither evaluated
        nor handed out; None when the space has none left."""
        pool = pool_for(self.space)
        # Only plain configs count as taken: one tried with agent-written source is still unseen as a config.
        taken = [pool.row_of.get(identity[:-1]) for identity in itertools.chain(self.state.seen, in_batch)
                 if identity[-1] is None]
        distance = pool.distances(config)
        distance[[row for row in taken if row is not None]] = np.inf
        if len(pool) and np.isfinite(nearest := distance.min()):
            # Sums of fractions: equal distances may differ in the last bits.
            return pool.config(self.rng.choice(np.flatnonzero(distance <= nearest + 1e-9).tolist()))
        # A space too large to enumerate keeps only a sample in its pool: look beyond it.
        return None if pool.complete else self._unseen_valid(in_batch)

    def _unseen_valid(self, in_batch: set[tuple]) -> dict | None:
        def taken(config: dict) -> bool:
            identity = self.identity(Candidate(config))
            return identity in self.state.seen or identity in in_batch

        for _ in range(1000):
            config = self.space.sample_valid(self.rng)
            if not taken(config):
                return config
        remaining = [c for c in self.space.valid_configs() if not taken(c)]
        return self.rng.choice(remaining) if remaining else None

    # -- tell -----------------------------------------------------------------------------------
    def tell(self, proposal: Proposal, result: TrialResult) -> Told:
        values = result.objective_values(self.ctx.objectives)
        if values is None:
            self.study.tell(proposal.trial, state=optuna.trial.TrialState.FAIL)
        else:
            proposal.trial.set_user_attr("violations", [c.violation(result.metrics) for c in self.ctx.constraints])
            self.study.tell(proposal.trial, values)
        return self._record(proposal.candidate, result, values)

    def restore(self, stored: list[TrialRecord]) -> None:
        """Replay stored trials into the study and the history."""
        for row in stored:
            result = TrialResult(status=TrialStatus(row.status), metrics=row.metrics, cost_s=row.cost_s)
            candidate = Candidate(row.params, source=row.source, origin=row.origin, note=row.note)
            values = row.values
            if self.space.is_valid(row.params):
                violations = [c.violation(row.metrics) for c in self.ctx.constraints]
                self.study.add_trial(optuna.trial.create_trial(
                    params=encode(self.space, row.params), distributions=self.dists, values=values,
                    state=optuna.trial.TrialState.COMPLETE if values else optuna.trial.TrialState.FAIL,
                    user_attrs={"violations": violations}, system_attrs={"constraints": violations}))
            self._record(candidate, result, values)

    def _record(self, candidate: Candidate, result: TrialResult, values: list[float] | None) -> Told:
        objectives = self.ctx.objectives
        feasible = values is not None and all(c.satisfied(result.metrics) for c in self.ctx.constraints)
        better = (feasible and len(objectives) == 1
                  and (self.state.best_value is None or objectives[0].better(values[0], self.state.best_value)))
        told = Told(self.state.next_number, values, feasible, better)
        if better:
            self.state.best_value = values[0]
        self.state.seen[self.identity(candidate)] = result
        self.state.pending.pop(self.identity(candidate), None)
        self.state.history.append(HistoryItem(told.number, candidate, result))
        self.state.next_number += 1
        self.state.spent_s += result.cost_s
        return told
