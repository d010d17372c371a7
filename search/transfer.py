"""Transfer from the database: what other devices and problems measured for the same target
becomes this job's prior knowledge.

Each source is a whole stored history (every trial of the target on one other device or
problem). A Gaussian process fitted to it, read over this job's pool of valid configs, is
that source's guess of the landscape. The guesses are weighed the way RGPE does it
(Feurer, Letham, Bakshy 2018): the job's own trials are resampled with replacement, in each
sample the model that misorders the fewest pairs of them gets a vote (ties share it), and a
model's weight is its share of the votes. The job's own model competes with its
leave-one-out predictions, and a source whose median loss is worse than the 95th percentile
of the own model's loses all weight, so a misleading source fades as the job's own trials
show it up. The weighted guess becomes the prior mean of the job's model (``ModelPick``).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from tuneforge.core.types import Objective
from tuneforge.db.records import TrialRecord
from tuneforge.search.gp import GaussianProcess
from tuneforge.search.pool import ConfigPool

# A source needs this many trials that ran to say anything about a landscape.
MIN_SOURCE_TRIALS = 5
# Trials a source's model is fitted to: its best ones and an even spread of the rest.
SOURCE_POINTS = 200
SOURCE_BEST = 60
# Resamples of the job's trials that vote on the weights.
BOOTSTRAPS = 100
# Trials the job needs before the vote means anything; until then the sources weigh the same.
VOTE_AFTER = 4
OWN = "this job"


@dataclass(frozen=True)
class SourceHistory:
    """What one other (device, problem) measured for the target: configs and the objective's
    values in the job's direction (None where the trial failed)."""

    name: str
    configs: tuple[dict[str, Any], ...]
    values: tuple[float | None, ...]
    direction: str = "minimize"

    @classmethod
    def from_history(cls, name: str, history: Sequence[Any], objective: Objective) -> SourceHistory:
        """From an engine's history items (``candidate``, ``result``)."""
        values = []
        for item in history:
            got = item.result.objective_values([objective])
            values.append(got[0] if got else None)
        return cls(name, tuple(dict(h.candidate.params) for h in history), tuple(values), objective.direction)

    @classmethod
    def from_trials(cls, name: str, trials: Sequence[TrialRecord], direction: str) -> SourceHistory:
        """From stored trials, first objective."""
        rows = [t for t in trials if t.source is None]  # an agent's kernel is another program
        return cls(name, tuple(dict(t.params) for t in rows),
                   tuple(t.values[0] if t.values and t.feasible else None for t in rows), direction)


@dataclass(frozen=True)
class SourceWeight:
    name: str
    weight: float
    trials: int


def _lower_is_better(values: np.ndarray, direction: str) -> np.ndarray:
    positive = bool(np.all(values > 0))
    v = np.log(values) if positive else values
    return v if direction == "minimize" else -v


def _discord(pred: np.ndarray, truth: np.ndarray) -> np.ndarray:
    """1 where a pair of trials is ordered one way by ``pred`` and the other way by ``truth``."""
    return ((pred[:, None] - pred[None, :]) * (truth[:, None] - truth[None, :]) < 0).astype(np.float64)


class TransferPrior:
    """The sources' guesses over one pool, and their weights given the job's own trials."""

    def __init__(self, sources: Sequence[SourceHistory], pool: ConfigPool) -> None:
        self.names: list[str] = []
        self.trials: list[int] = []
        guesses = []
        for src in sources:
            guess = self._guess(src, pool)
            if guess is not None:
                self.names.append(src.name)
                self.trials.append(len(src.configs))
                guesses.append(guess)
        self.guesses = np.array(guesses).reshape(len(guesses), len(pool))

    def __bool__(self) -> bool:
        return bool(self.names)

    @staticmethod
    def _guess(src: SourceHistory, pool: ConfigPool) -> np.ndarray | None:
        """The source's GP mean over the pool, standardised (lower is better)."""
        rows, vals = [], []
        for config, value in zip(src.configs, src.values):
            row = pool.row(config)
            if row is not None and row not in rows:
                rows.append(row)
                vals.append(math.nan if value is None else float(value))
        vals_arr = np.array(vals, dtype=np.float64)
        ok = ~np.isnan(vals_arr)
        if ok.sum() < MIN_SOURCE_TRIALS:
            return None
        y = np.full(len(vals_arr), math.nan)
        y[ok] = _lower_is_better(vals_arr[ok], src.direction)
        y[~ok] = y[ok].max()  # a failure counts as the worst, as in the job's own model
        rows_arr = np.array(rows)
        keep = np.argsort(y, kind="stable")
        if len(keep) > SOURCE_POINTS:
            rest = keep[SOURCE_BEST:]
            keep = np.concatenate([keep[:SOURCE_BEST],
                                   rest[np.linspace(0, len(rest) - 1, SOURCE_POINTS - SOURCE_BEST).astype(int)]])
        gp = GaussianProcess(pool.features[rows_arr[keep]], y[keep])
        mean = np.concatenate([gp.predict_mean(chunk) for chunk in np.array_split(
            pool.features, max(1, len(pool) // 4000))])
        return (mean - mean.mean()) / (mean.std() or 1.0)

    def weights(self, rows: np.ndarray, scores: np.ndarray, own_loo: np.ndarray | None,
                rng: np.random.Generator) -> np.ndarray:
        """One weight per source and, last, the job's own model's; they sum to 1."""
        k = len(self.names)
        if own_loo is None or len(rows) < VOTE_AFTER:
            return np.append(np.full(k, 1.0 / k), 0.0)
        preds = [*self.guesses[:, rows], own_loo]
        discords = np.array([_discord(p, scores) for p in preds])  # models x n x n
        counts = rng.multinomial(len(rows), np.full(len(rows), 1.0 / len(rows)), size=BOOTSTRAPS)  # B x n
        losses = np.einsum("bi,mij,bj->mb", counts, discords, counts) / 2  # models x B
        alive = np.append(np.median(losses[:k], axis=1) <= np.percentile(losses[k], 95), True)
        losses[~alive] = np.inf
        winners = losses == losses.min(axis=0)
        votes = (winners / winners.sum(axis=0)).sum(axis=1)
        return votes / BOOTSTRAPS

    def prior(self, weights: np.ndarray) -> np.ndarray | None:
        """The sources' weighted guess over the pool (None when no source has weight)."""
        w = weights[:len(self.names)]
        if w.sum() <= 0:
            return None
        return (w[:, None] * self.guesses).sum(0) / w.sum()

    def report(self, weights: np.ndarray) -> list[SourceWeight]:
        return [*(SourceWeight(n, round(float(w), 2), t) for n, w, t in zip(self.names, weights, self.trials)),
                SourceWeight(OWN, round(float(weights[-1]), 2), 0)]
