"""Strategies that choose among the space's valid configs directly (see ``search/techniques.py``).

They propose whole candidates through ``Strategy.propose``: only valid, unseen configs,
distinct within a batch, with the technique that chose each one in its origin. The Optuna
sampler is only a fallback for when the pool of valid configs runs dry.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import optuna
from threadpoolctl import threadpool_limits

from tuneforge.core.types import Candidate
from tuneforge.search.observations import Observations, observe
from tuneforge.search.strategies._base import HistoryItem, Strategy, StrategyContext
from tuneforge.search.techniques import (PRIOR_FIT_AFTER, DescentPick, FarPick, ModelPick, NeighbourhoodPick,
                                         RandomPick, Technique)
from tuneforge.search.transfer import SourceWeight, TransferPrior

# Bandit credit looks at each technique's last uses only: what worked early may not now.
CREDIT_WINDOW = 20
EXPLORATION = 0.3
# Stalled: no new best for STALL_SHARE of the trials so far (and at least STALL_MIN). Then
# the bandit hops out of the best config's neighbourhood and descends from there
# while the descent keeps finding better configs (PATIENCE trials without one end it) for at
# most DESCENT trials; it restarts only while at least DESCENT trials of the budget remain.
# Off unless a job asks for it (options.restarts): on the held-out spaces of `bench search` the
# rule lowered convolution_A100 at 100 trials (docs/search.md), so it is not yet the default.
STALL_MIN = 40
STALL_SHARE = 0.5
DESCENT = 10
PATIENCE = 3
# With other devices' histories, after the opening the bandit descends from the best configs
# found (the model's pick among their moves, see DescentPick) until TRANSFER_PATIENCE trials
# in a row bring no new best. A sibling's best configs land near a good basin, and its
# optimum is often one parameter away (docs/search.md, transfer; 12 of 5, 8, 12 and 20 there).
TRANSFER_PATIENCE = 12


class PoolStrategy(Strategy):
    multi_objective = True

    def sampler(self, ctx: StrategyContext) -> optuna.samplers.BaseSampler:
        return optuna.samplers.RandomSampler(seed=ctx.seed)

    def propose(self, ctx: StrategyContext, history: list[HistoryItem], n: int,
                pending: Sequence[Candidate] = ()) -> list[Candidate]:
        # The models' matrices have a few hundred rows at most: BLAS threads cost more to start
        # than they save (bench search, one process: 1.75x the wall time and 3x the CPU).
        with threadpool_limits(limits=1, user_api="blas"):
            return self._propose(ctx, history, n, pending)

    def _propose(self, ctx: StrategyContext, history: list[HistoryItem], n: int,
                 pending: Sequence[Candidate]) -> list[Candidate]:
        obs = observe(ctx, history)
        self._attach_transfer(ctx, obs)
        rng = np.random.default_rng([ctx.seed, len(history)])
        self.restarts = bool(ctx.options.get("restarts", False))
        # Pending configs are taken: no technique proposes them again, and the model treats
        # them as already observed at its own prediction.
        taken = {r for r in (obs.pool.row(c.params) for c in pending) if r is not None}
        out: list[Candidate] = []
        for technique, k in self.plan(obs, n, rng, [c.origin for c in pending],
                                          remaining=ctx.budget_trials - len(history)):
            rows = technique.pick(obs, k, rng, taken)
            taken.update(rows)
            out += [Candidate(obs.pool.config(r), origin=f"{self.name}:{technique.name}") for r in rows]
        return out

    def plan(self, obs: Observations, n: int, rng: np.random.Generator, pending_origins: list[str],
             remaining: int) -> list[tuple[Technique, int]]:
        """Which technique fills how many of the ``n`` slots."""
        raise NotImplementedError

    def model(self) -> ModelPick | None:
        """The technique that can use the database's other histories, if this strategy has one."""
        return None

    def _attach_transfer(self, ctx: StrategyContext, obs: Observations) -> None:
        model = self.model()
        if model is not None and ctx.sources and model.transfer is None:
            model.transfer = TransferPrior(ctx.sources, obs.pool)

    def transfer_report(self) -> list[SourceWeight]:
        """The sources the model used and their latest weights (empty without sources)."""
        model = self.model()
        if model is None or not model.transfer or model.transfer_weights is None:
            return []
        return model.transfer.report(model.transfer_weights)


class BayesOpt(PoolStrategy):
    name = "bo"
    description = ("Gaussian-process expected improvement over the valid configs; failures count as the worst "
                   "result; kriging-believer batches; ParEGO for several objectives")

    def __init__(self) -> None:
        self._model = ModelPick()

    def model(self) -> ModelPick:
        return self._model

    def plan(self, obs, n, rng, pending_origins, remaining):
        return [(self._model, n)]


class LocalSearch(PoolStrategy):
    name = "local"
    description = "best-first neighbourhood search: one-parameter changes of the best configs found so far"

    def plan(self, obs, n, rng, pending_origins, remaining):
        return [(NeighbourhoodPick(), n)]


class Bandit(PoolStrategy):
    name = "bandit"
    description = ("a multi-armed bandit over the model, local search and random sampling, crediting each "
                   "with the new bests it found recently (OpenTuner's AUC bandit)")

    def __init__(self) -> None:
        self.arms: list[Technique] = [ModelPick(), NeighbourhoodPick(), RandomPick()]
        self.restart = FarPick(self.arms[0])
        self.transfer_descent = DescentPick(self.arms[0], since=0)
        self.restarts = False

    def model(self) -> ModelPick:
        return self.arms[0]

    def plan(self, obs, n, rng, pending_origins, remaining):
        if self.arms[0].transfer and len(obs.rows) + len(pending_origins) < PRIOR_FIT_AFTER:
            # The opening with other devices' histories: every slot to the sources' weighted guess.
            # A random or local pick there would spend the trials the job knows least about on
            # configs the database does not favour (bench search: convolution_MI250X, 20 trials).
            return [(self.arms[0], n)]
        if self.arms[0].transfer and self._descending(obs, pending_origins):
            return [(self.transfer_descent, n)]
        escape = self._escape(obs, pending_origins, remaining) if self.restarts else None
        if escape is not None:
            return [(escape, n)]
        credit = self._credit(obs)
        # Slots still running count as uses already given, so one arm does not take them all.
        busy = [sum(o == f"{self.name}:{arm.name}" for o in pending_origins) for arm in self.arms]
        counts = dict.fromkeys(range(len(self.arms)), 0)
        for _ in range(n):
            counts[max(range(len(self.arms)), key=lambda a: credit(a, busy[a] + counts[a]))] += 1
        return [(self.arms[a], c) for a, c in counts.items() if c]

    def _descending(self, obs: Observations, pending_origins: list[str]) -> bool:
        """Whether the descent after a transfer opening goes on: every trial so far came from the
        opening or the descent, and one of the last TRANSFER_PATIENCE brought a new best. Read from
        the history alone, so a resumed job decides the same."""
        own = (f"{self.name}:{self.arms[0].name}", f"{self.name}:{self.transfer_descent.name}")
        if any(o not in own for o in [*obs.origins, *pending_origins]):
            return False
        return len(obs.rows) - max(_last_best(obs), PRIOR_FIT_AFTER - 1) <= TRANSFER_PATIENCE

    def _escape(self, obs: Observations, pending_origins: list[str], remaining: int) -> Technique | None:
        """A restart when the search has stalled, a descent while one is under way, else None.

        Derived from the history alone (origins mark restarts), so a resumed job decides the same.
        """
        if f"{self.name}:restart" in pending_origins:
            return None  # its result decides where the descent goes
        n = len(obs.rows)
        scores = obs.scores()
        last_best = _last_best(obs)
        restarts = [i for i, o in enumerate(obs.origins) if o == f"{self.name}:restart"]
        last_restart = restarts[-1] if restarts else -1
        if last_restart > last_best and n - last_restart <= DESCENT:
            episode = scores[last_restart:].copy()
            episode[obs.failed[last_restart:]] = math.inf
            if n - (last_restart + int(np.argmin(episode))) <= PATIENCE:
                return DescentPick(self.arms[0], since=last_restart)
        quiet = n - max(last_best, last_restart)
        if last_best >= 0 and quiet >= max(STALL_MIN, math.ceil(STALL_SHARE * n)) and remaining >= DESCENT:
            return self.restart
        return None

    def _credit(self, obs: Observations):
        """Score of an arm given it already holds ``extra`` slots of this batch."""
        scores = obs.scores()
        improved, best = [], math.inf
        for s, failed in zip(scores, obs.failed):
            improved.append(not failed and s < best)
            best = min(best, s) if not failed else best
        uses: dict[str, list[bool]] = {arm.name: [] for arm in self.arms}
        for origin, hit in zip(obs.origins, improved):
            arm = origin.partition(":")[2]
            if origin.startswith(f"{self.name}:") and arm in uses:
                uses[arm].append(hit)
        total = sum(len(u) for u in uses.values()) + 1

        def score(a: int, extra: int) -> float:
            recent = uses[self.arms[a].name][-CREDIT_WINDOW:]
            m = len(recent) + extra
            if m == 0:
                return math.inf
            auc = sum((i + 1) * hit for i, hit in enumerate(recent)) / (m * (m + 1) / 2)
            return auc + EXPLORATION * math.sqrt(2 * math.log(total + extra) / m)

        return score


def _last_best(obs: Observations) -> int:
    """Position of the trial that set the current best (-1 before any trial ran)."""
    last_best, best = -1, math.inf
    for i, (s, failed) in enumerate(zip(obs.scores(), obs.failed)):
        if not failed and s < best:
            last_best, best = i, s
    return last_best


STRATEGIES = [BayesOpt, LocalSearch, Bandit]
