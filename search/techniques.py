"""Ways to pick the next configs from a space's pool of valid configs.

Each technique returns pool rows that are unseen and not already taken by the batch,
so batch proposals are distinct and no trial goes to a forbidden or repeated config.
"""

from __future__ import annotations

from typing import Protocol

import numpy as np

from tuneforge.search.gp import GaussianProcess, expected_improvement
from tuneforge.search.observations import Observations

# Random configs a model needs before it is worth fitting.
INITIAL_DESIGN = 8
# Random unseen configs scored by the model per proposal (the incumbents' neighbours always are).
SCORED_SAMPLE = 1500
INCUMBENTS = 5
# Hyperparameters are refitted at every proposal early on, then every REFIT_EVERY trials.
REFIT_UNTIL = 40
REFIT_EVERY = 10


class Technique(Protocol):
    name: str

    def pick(self, obs: Observations, k: int, rng: np.random.Generator, taken: set[int]) -> list[int]: ...


def _free(rows: np.ndarray, taken: set[int]) -> np.ndarray:
    return rows[~np.isin(rows, list(taken))] if taken else rows


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


class ModelPick:
    """Gaussian-process expected improvement; a batch is built with the posterior mean as a
    stand-in result for each pick and for each pending config (a 'kriging believer'), which
    shrinks the uncertainty around it so the next pick goes elsewhere."""

    name = "model"

    def __init__(self) -> None:
        self._theta: np.ndarray | None = None  # last fits, warm starts for the next ones
        self._fail_theta: np.ndarray | None = None
        self._fitted_at = 0

    def pick(self, obs: Observations, k: int, rng: np.random.Generator, taken: set[int]) -> list[int]:
        if len(obs.rows) < INITIAL_DESIGN or obs.n_ok < 2:
            return RandomPick().pick(obs, k, rng, taken)
        weights = rng.dirichlet(np.ones(obs.values.shape[1]))
        scores = obs.scores(weights)
        feats = obs.pool.features
        n = len(obs.rows)
        refit = self._theta is None or n < REFIT_UNTIL or n - self._fitted_at >= REFIT_EVERY
        gp = GaussianProcess(feats[obs.rows], scores, self._theta, fit=refit)
        cand = self._candidates(obs, scores, rng, taken)
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
            j = int(np.argmax(expected_improvement(mean, std, best) * runs))
            picks.append(int(cand[j]))
            if len(picks) < k:
                gp = gp.with_points(feats[cand[j]][None, :], mean[j:j + 1])
            cand, runs = np.delete(cand, j), np.delete(runs, j)
        return picks

    def _candidates(self, obs: Observations, scores: np.ndarray, rng: np.random.Generator,
                    taken: set[int]) -> np.ndarray:
        free = _free(obs.unseen_rows(), taken)
        if len(free) <= SCORED_SAMPLE:
            return free
        near = np.concatenate([obs.pool.neighbours(int(r)) for r in _incumbents(obs, scores, INCUMBENTS)])
        near = _free(near[~obs.seen[near]], taken)
        return np.unique(np.concatenate([rng.choice(free, size=SCORED_SAMPLE, replace=False), near]))
