"""Ways to pick the next configs from a space's pool of valid configs.

Each technique returns pool rows that are unseen and not already taken by the batch,
so batch proposals are distinct and no trial goes to a forbidden or repeated config.
"""

from __future__ import annotations

import math
from typing import Protocol

import numpy as np

from tuneforge.search.gp import GaussianProcess, expected_improvement
from tuneforge.search.observations import Observations
from tuneforge.search.pool import Moves
from tuneforge.search.transfer import TransferPrior

# Trials before the model is fitted (its slots go to random configs until then). Under the GP's
# priors three already show a trend; with plain likelihood it took 8 (docs/search.md).
INITIAL_DESIGN = 3
# Random unseen configs scored by the model per proposal (the incumbents' neighbours always are).
SCORED_SAMPLE = 1500
INCUMBENTS = 5
# Hyperparameters are refitted at every proposal early on, then every REFIT_EVERY trials.
REFIT_UNTIL = 40
REFIT_EVERY = 10
# With a transfer prior: own trials that go to its best configs before its scale is fitted
# (the opening; the bandit gives every slot to the model until then), and how many of its
# favourite configs are always among those scored.
PRIOR_FIT_AFTER = 5
PRIOR_FAVOURITES = 200
# A restart point differs from the best config in two parameters up to this share of them.
HOP_SHARE = 1 / 3
# A descent works the neighbourhoods of this many of the best configs since its restart.
DESCENT_ANCHORS = 2


class Technique(Protocol):
    name: str

    def pick(self, obs: Observations, k: int, rng: np.random.Generator, taken: set[int]) -> list[int]: ...


def _free(rows: np.ndarray, taken: set[int]) -> np.ndarray:
    return rows[~np.isin(rows, list(taken))] if taken else rows


def _restricted(rows: np.ndarray, among: np.ndarray | None) -> np.ndarray:
    return rows if among is None else rows[np.isin(rows, among)]


def _incumbents(obs: Observations, scores: np.ndarray, count: int) -> np.ndarray:
    ok = np.flatnonzero(~obs.failed)
    return obs.rows[ok[np.argsort(scores[ok], kind="stable")[:count]]]


class RandomPick:
    name = "random"

    def pick(self, obs: Observations, k: int, rng: np.random.Generator, taken: set[int]) -> list[int]:
        free = _free(obs.unseen_rows(), taken)
        return [int(r) for r in rng.choice(free, size=min(k, len(free)), replace=False)]


class NeighbourhoodPick:
    """Best-first local search: unseen one-parameter changes of the best config, then of the
    second best once the first's neighbourhood is exhausted, and so on."""

    name = "local"

    def pick(self, obs: Observations, k: int, rng: np.random.Generator, taken: set[int]) -> list[int]:
        picks: list[int] = []
        if obs.n_ok:
            for row in _incumbents(obs, obs.scores(), len(obs.rows)):
                nbrs = obs.pool.neighbours(int(row))
                nbrs = _free(nbrs[~obs.seen[nbrs]], taken | set(picks))
                want = k - len(picks)
                picks += [int(r) for r in rng.choice(nbrs, size=min(want, len(nbrs)), replace=False)]
                if len(picks) == k:
                    return picks
        return picks + RandomPick().pick(obs, k - len(picks), rng, taken | set(picks))


class FarPick:
    """A restart: the model's pick among configs that change between two parameters and a
    third of them (at least two) of the best config, i.e. a jump out of its one-parameter
    neighbourhood, which local search has worked through, to a nearby basin (basin hopping
    with the model choosing the hop)."""

    name = "restart"

    def __init__(self, model: ModelPick) -> None:
        self.model = model

    def pick(self, obs: Observations, k: int, rng: np.random.Generator, taken: set[int]) -> list[int]:
        index = obs.pool.index
        varying = index.max(0) > index.min(0)
        best = index[_incumbents(obs, obs.scores(), 1)][:, varying]
        free = _free(obs.unseen_rows(), taken)
        if not len(best):
            return RandomPick().pick(obs, k, rng, taken)
        distance = (index[free][:, varying] != best[0]).sum(1)
        hop = free[(distance >= 2) & (distance <= max(2, math.ceil(varying.sum() * HOP_SHARE)))]
        if not len(hop):
            return RandomPick().pick(obs, k, rng, taken)
        return self.model.pick(obs, k, rng, taken, among=hop)


class DescentPick:
    """After a restart: the model's pick among the unseen moves (``ConfigPool.moves``: one-parameter
    changes, and forbidden ones repaired) of the best configs found since the restart (trial
    position ``since``), so the search works the new basin instead of drifting back to the old one.

    Each parameter gets its turn: only moves of the best config in a parameter not yet moved
    from it are offered until every parameter has been, then the same for the second best.
    Where the model is sure a parameter is settled (the sources agree on it) it would otherwise
    never try it, and that is where another GPU's optimum often differs from this one's; and the
    best config's turns come first, or a move of the second best that happens to win moves the
    descent on before the best config's own moves were all seen (docs/search.md, transfer).
    """

    name = "descent"

    def __init__(self, model: ModelPick, since: int) -> None:
        self.model = model
        self.since = since

    def pick(self, obs: Observations, k: int, rng: np.random.Generator, taken: set[int]) -> list[int]:
        recent = np.flatnonzero((np.arange(len(obs.rows)) >= self.since) & ~obs.failed)
        scores = obs.scores()
        best = obs.rows[recent[np.argsort(scores[recent], kind="stable")[:DESCENT_ANCHORS]]]
        moves = [obs.pool.moves(int(r)) for r in best]
        near = np.concatenate([m.rows for m in moves]) if moves else np.empty(0, np.int64)
        near = _free(np.unique(near[~obs.seen[near]]), taken)
        if not len(near):
            return NeighbourhoodPick().pick(obs, k, rng, taken)
        tried = np.concatenate([obs.rows, np.array(sorted(taken), dtype=np.int64)])
        return self.model.pick(obs, k, rng, taken, among=_untried_directions(moves, tried, near))


class ModelPick:
    """Gaussian-process expected improvement; a batch is built with the posterior mean as a
    stand-in result for each pick and for each pending config (a 'kriging believer'), which
    shrinks the uncertainty around it so the next pick goes elsewhere.

    With a transfer prior (``search/transfer.py``) the model starts from the other devices'
    and problems' weighted guess instead of random configs: the GP models what the guess,
    scaled to this job's trials, gets wrong. A guess that ranks this job's trials badly loses
    its weight, and with no weight left the model is a cold job's.
    """

    name = "model"

    def __init__(self) -> None:
        self._theta: np.ndarray | None = None  # last fits, warm starts for the next ones
        self._fail_theta: np.ndarray | None = None
        self._own_theta: np.ndarray | None = None
        self._fitted_at = 0
        self.transfer: TransferPrior | None = None
        self.transfer_weights: np.ndarray | None = None  # the latest vote, for the job's record

    def pick(self, obs: Observations, k: int, rng: np.random.Generator, taken: set[int],
             among: np.ndarray | None = None) -> list[int]:
        """``among``: if given, pick only from these rows (the model still learns from all trials)."""
        if not self.transfer and (len(obs.rows) < INITIAL_DESIGN or obs.n_ok < 2):
            return RandomPick().pick(obs, k, rng, taken)
        scores = obs.scores(rng.dirichlet(np.ones(obs.values.shape[1])))
        prior = self._prior(obs, scores, rng) if self.transfer else None
        if obs.n_ok < 2 and (prior is None or len(obs.rows) >= INITIAL_DESIGN):
            return RandomPick().pick(obs, k, rng, taken)
        if prior is not None and (len(obs.rows) < PRIOR_FIT_AFTER or obs.n_ok < 2):
            # Too few own trials to scale the guess: take its best configs.
            free = _restricted(_free(obs.unseen_rows(), taken), among)
            return [int(r) for r in free[np.argsort(prior[free], kind="stable")[:k]]]
        if prior is None and len(obs.rows) < INITIAL_DESIGN:
            return RandomPick().pick(obs, k, rng, taken)
        feats = obs.pool.features
        n = len(obs.rows)
        refit = self._theta is None or n < REFIT_UNTIL or n - self._fitted_at >= REFIT_EVERY
        offset = np.zeros(len(obs.pool))
        if prior is not None:
            offset = _scaled(prior, obs.rows, scores, obs.failed)
        # The smoothness prior is for the job's own landscape seen through few trials. While the
        # sources hold weight the GP models what their scaled guess gets wrong, where plain
        # likelihood measured better; once they hold none it is the cold job's model
        # (docs/search.md, "The model's priors").
        gp = GaussianProcess(feats[obs.rows], scores - offset[obs.rows], self._theta, fit=refit,
                             smooth=prior is None)
        cand = self._candidates(obs, scores, rng, taken, prior, among)
        runs = np.ones(len(cand))
        if obs.failed.any() and not obs.failed.all():
            # A second GP on the failed/ran labels: its own lengthscales find the parameters
            # that decide failure, which need not be those that decide speed.
            fails = GaussianProcess(feats[obs.rows], obs.failed.astype(float), self._fail_theta,
                                    fit=refit or self._fail_theta is None)
            self._fail_theta = fails.theta
            runs = 1.0 - np.clip(fails.predict(feats[cand])[0], 0.0, 1.0)
        if refit:
            self._theta, self._fitted_at = gp.theta, n
        if taken:
            # Kriging believer for configs handed out but not told yet: observed at the model's
            # own prediction, which keeps the mean but removes the uncertainty around them.
            believed = feats[sorted(taken)]
            gp = gp.with_points(believed, gp.predict(believed)[0])
        picks: list[int] = []
        best = scores.min()
        while len(picks) < k and len(cand):
            mean, std = gp.predict(feats[cand])
            j = int(np.argmax(expected_improvement(mean + offset[cand], std, best) * runs))
            picks.append(int(cand[j]))
            if len(picks) < k:
                gp = gp.with_points(feats[cand[j]][None, :], mean[j:j + 1])
            cand, runs = np.delete(cand, j), np.delete(runs, j)
        return picks

    def _prior(self, obs: Observations, scores: np.ndarray, rng: np.random.Generator) -> np.ndarray | None:
        own_loo = None
        if obs.n_ok >= 2 and len(obs.rows) >= 3:
            own = GaussianProcess(obs.pool.features[obs.rows], scores, self._own_theta,
                                  fit=self._own_theta is None or len(obs.rows) % REFIT_EVERY == 0, smooth=True)
            self._own_theta, own_loo = own.theta, own.loo_mean()
        self.transfer_weights = self.transfer.weights(obs.rows, scores, own_loo, rng)
        return self.transfer.prior(self.transfer_weights)

    def _candidates(self, obs: Observations, scores: np.ndarray, rng: np.random.Generator,
                    taken: set[int], prior: np.ndarray | None = None, among: np.ndarray | None = None
                    ) -> np.ndarray:
        free = _restricted(_free(obs.unseen_rows(), taken), among)
        if len(free) <= SCORED_SAMPLE:
            return free
        near = np.concatenate([obs.pool.neighbours(int(r)) for r in _incumbents(obs, scores, INCUMBENTS)])
        near = _restricted(_free(near[~obs.seen[near]], taken), among)
        # The prior's favourites are always scored: that is where the other devices' optima were.
        liked = free[np.argsort(prior[free], kind="stable")[:PRIOR_FAVOURITES]] if prior is not None else free[:0]
        return np.unique(np.concatenate([rng.choice(free, size=SCORED_SAMPLE, replace=False), near, liked]))


def _untried_directions(moves: list[Moves], tried: np.ndarray, near: np.ndarray) -> np.ndarray:
    """The rows of ``near`` that move the first anchor (the best; ``moves`` holds each anchor's
    moves) in a parameter that has not had its turn: no ``tried`` row moved it from there. The
    one-parameter changes first, then the repaired ones, which take turns of their own; once the
    first anchor has none, those of the next; all of ``near`` once no anchor has any."""
    for m in moves:
        was_tried, offered = np.isin(m.rows, tried), np.isin(m.rows, near)
        for kind in (~m.repaired, m.repaired):
            done = m.params[kind & was_tried].any(0)
            fresh = kind & offered & ~(m.params & done).any(1)
            if fresh.any():
                return m.rows[fresh]
    return near


def _scaled(prior: np.ndarray, rows: np.ndarray, scores: np.ndarray, failed: np.ndarray) -> np.ndarray:
    """The prior in the units of this job's scores: least-squares fit on the trials that ran,
    with a slope that may shrink to nothing but never turns the guess upside down."""
    ok = ~failed
    x, y = prior[rows][ok], scores[ok]
    slope = max(0.0, float(np.cov(x, y, bias=True)[0, 1] / x.var())) if x.var() > 0 else 0.0
    return float(y.mean()) + slope * (prior - float(x.mean()))
