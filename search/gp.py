"""A small Gaussian process for discrete tuning spaces (numpy + scipy only).

Matern-5/2 kernel with one lengthscale per parameter (a long lengthscale says "this
parameter hardly matters"), hyperparameters fitted by maximum marginal likelihood with
analytic gradients, so a refit per proposal costs milliseconds at a few hundred trials.
The model of a job's own run times fits the maximum a posteriori instead, under a
log-normal prior on the lengthscales and the noise (``smooth=True``, see ``smooth_prior``).
"""

from __future__ import annotations

import math

import numpy as np
from scipy.linalg import cho_solve, cholesky, solve_triangular
from scipy.optimize import minimize
from scipy.special import ndtr

SQRT5 = math.sqrt(5.0)
LOG_LENGTH = (math.log(0.03), math.log(8.0))
# Under the prior a parameter the trials do not show to matter may keep a near-linear effect
# over its whole range: a longer bound.
LOG_LENGTH_SMOOTH = (math.log(0.03), math.log(100.0))
LOG_SIGNAL = (math.log(0.05), math.log(20.0))
LOG_NOISE = (math.log(1e-5), math.log(0.3))
# With the lengthscale prior, a normal prior on the log noise variance (standardised units),
# also BoTorch's: otherwise a few trials are "explained" as a flat landscape plus noise, and
# expected improvement sends the next trials to the space's corners.
LOG_NOISE_PRIOR = (-4.0, 1.0)


def smooth_prior(d: int) -> tuple[float, float]:
    """Mean and deviation of the normal prior on each log lengthscale, for ``d`` parameters.

    Its median grows with sqrt(d) (Hvarfner, Hellsten, Nardi 2024, BoTorch's default): with a
    handful of trials the model assumes a smooth landscape whose trend reaches past the
    trials, rather than one where each config is an island and expected improvement
    degrades into a space-filling random search.
    """
    return math.sqrt(2.0) + 0.5 * math.log(d), math.sqrt(3.0)


def _matern(r: np.ndarray) -> np.ndarray:
    return (1.0 + SQRT5 * r + (5.0 / 3.0) * r * r) * np.exp(-SQRT5 * r)


def _scaled_sqdist(a: np.ndarray, b: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    za, zb = a / lengths, b / lengths
    d2 = (za * za).sum(1)[:, None] + (zb * zb).sum(1)[None, :] - 2.0 * za @ zb.T
    return np.maximum(d2, 0.0)


class GaussianProcess:
    def __init__(self, x: np.ndarray, y: np.ndarray, theta: np.ndarray | None = None, *, fit: bool = True,
                 smooth: bool = False) -> None:
        self.x = x
        self.y_mean, self.y_std = float(y.mean()), float(y.std()) or 1.0
        self.z = (y - self.y_mean) / self.y_std
        d = x.shape[1]
        self.prior = smooth_prior(d) if smooth else None
        log_length = self.prior[0] if self.prior else math.log(0.3)
        fresh = np.array([log_length] * d + [0.0, math.log(1e-2)])
        start = theta if theta is not None and len(theta) == d + 2 else fresh
        self.theta = self._fit(start) if fit else start
        self._factor()

    # -- hyperparameters -----------------------------------------------------------------------
    def _fit(self, start: np.ndarray) -> np.ndarray:
        d = self.x.shape[1]
        bounds = [LOG_LENGTH_SMOOTH if self.prior else LOG_LENGTH] * d + [LOG_SIGNAL, LOG_NOISE]
        diffs2 = (self.x[:, None, :] - self.x[None, :, :]) ** 2  # n x n x d
        best = minimize(self._nll, np.clip(start, *zip(*bounds)), args=(diffs2,), jac=True, method="L-BFGS-B",
                        bounds=bounds, options={"maxiter": 40})
        return best.x

    def _nll(self, theta: np.ndarray, diffs2: np.ndarray) -> tuple[float, np.ndarray]:
        d = self.x.shape[1]
        lengths, signal, noise = np.exp(theta[:d]), math.exp(theta[d]), math.exp(theta[d + 1])
        scaled = diffs2 / lengths ** 2
        r = np.sqrt(scaled.sum(2))
        base = signal * _matern(r)
        k = base + noise * np.eye(len(r))
        try:
            chol = cholesky(k, lower=True)
        except np.linalg.LinAlgError:
            return 1e10, np.zeros_like(theta)
        alpha = cho_solve((chol, True), self.z)
        nll = 0.5 * self.z @ alpha + np.log(np.diag(chol)).sum() + 0.5 * len(r) * math.log(2 * math.pi)
        inv_chol = solve_triangular(chol, np.eye(len(r)), lower=True)
        w = inv_chol.T @ inv_chol - np.outer(alpha, alpha)
        # d k / d log(length_j) = signal * 5/3 * (1 + sqrt5 r) exp(-sqrt5 r) * (diff_j / length_j)^2
        radial = signal * (5.0 / 3.0) * (1.0 + SQRT5 * r) * np.exp(-SQRT5 * r)
        grad = np.empty_like(theta)
        grad[:d] = 0.5 * np.einsum("ij,ijk->k", w * radial, scaled)
        grad[d] = 0.5 * (w * base).sum()
        grad[d + 1] = 0.5 * noise * np.trace(w)
        if self.prior:
            for k, (mean, deviation) in ((slice(0, d), self.prior), (d + 1, LOG_NOISE_PRIOR)):
                nll += float(np.sum((theta[k] - mean) ** 2)) / (2 * deviation ** 2)
                grad[k] += (theta[k] - mean) / deviation ** 2
        return float(nll), grad

    # -- posterior -----------------------------------------------------------------------------
    def _factor(self) -> None:
        d = self.x.shape[1]
        self.lengths, self.signal = np.exp(self.theta[:d]), math.exp(self.theta[d])
        noise = math.exp(self.theta[d + 1])
        k = self.signal * _matern(np.sqrt(_scaled_sqdist(self.x, self.x, self.lengths))) + (noise + 1e-9) * np.eye(len(self.x))
        self.chol = cholesky(k, lower=True)
        self.alpha = cho_solve((self.chol, True), self.z)

    def similarity(self, xs: np.ndarray) -> np.ndarray:
        """Kernel correlation (1 = same point) of each of ``xs`` with each training point."""
        return _matern(np.sqrt(_scaled_sqdist(xs, self.x, self.lengths)))

    def predict(self, xs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Posterior mean and standard deviation, in the units of ``y``."""
        ks = self.signal * self.similarity(xs)
        mean = ks @ self.alpha
        v = solve_triangular(self.chol, ks.T, lower=True)
        var = np.maximum(self.signal - (v * v).sum(0), 1e-12)
        return mean * self.y_std + self.y_mean, np.sqrt(var) * self.y_std

    def predict_mean(self, xs: np.ndarray) -> np.ndarray:
        """Posterior mean only (cheaper than ``predict`` over large pools)."""
        return (self.signal * self.similarity(xs)) @ self.alpha * self.y_std + self.y_mean

    def loo_mean(self) -> np.ndarray:
        """Leave-one-out posterior mean at each training point, hyperparameters kept."""
        k_inv = cho_solve((self.chol, True), np.eye(len(self.x)))
        return (self.z - self.alpha / np.diag(k_inv)) * self.y_std + self.y_mean

    def with_points(self, xs: np.ndarray, ys: np.ndarray) -> GaussianProcess:
        """The same hyperparameters conditioned on more (possibly imagined) observations."""
        gp = GaussianProcess.__new__(GaussianProcess)
        gp.x, gp.y_mean, gp.y_std, gp.theta = np.vstack([self.x, xs]), self.y_mean, self.y_std, self.theta
        gp.prior = self.prior
        gp.z = np.append(self.z, (np.asarray(ys) - gp.y_mean) / gp.y_std)
        gp._factor()
        return gp


def expected_improvement(mean: np.ndarray, std: np.ndarray, best: float) -> np.ndarray:
    """Expected amount below ``best`` (minimisation)."""
    z = (best - mean) / std
    return std * (z * ndtr(z) + np.exp(-0.5 * z * z) / math.sqrt(2 * math.pi))
