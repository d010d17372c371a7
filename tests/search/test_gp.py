import itertools

import numpy as np
from scipy.optimize import approx_fprime
from scipy.stats import spearmanr

from tuneforge.search.gp import GaussianProcess

# Seven parameters of three values each, as a pool's features (indices scaled to [0, 1]).
GRID = np.array(list(itertools.product([0.0, 0.5, 1.0], repeat=7)))


def _landscape(x: np.ndarray) -> np.ndarray:
    return 2.0 * x[:, 0] + 0.3 * x[:, 1]  # one parameter matters, one a little, five not at all


def test_with_eight_trials_the_smooth_model_ranks_the_unseen_configs_by_the_trend():
    plain, smooth = [], []
    for seed in range(6):
        x = GRID[np.random.default_rng(seed).choice(len(GRID), 8, replace=False)]
        for fits, flag in ((plain, False), (smooth, True)):
            gp = GaussianProcess(x, _landscape(x), smooth=flag)
            fits.append(spearmanr(gp.predict_mean(GRID), _landscape(GRID))[0])
            if flag:
                assert gp.lengths[0] >= 0.5  # the parameter that matters keeps a trend, not islands
    # Maximum likelihood alone shrinks a lengthscale to its bound on some draws; the prior does not.
    assert min(plain) < 0.9 < min(smooth)


def test_the_prior_enters_the_gradient_of_the_fitted_objective():
    x = GRID[np.random.default_rng(0).choice(len(GRID), 12, replace=False)]
    gp = GaussianProcess(x, _landscape(x), smooth=True)
    diffs2 = (x[:, None, :] - x[None, :, :]) ** 2
    theta = np.append(np.linspace(-1.0, 2.0, 7), [0.3, -3.0])
    analytic = gp._nll(theta, diffs2)[1]
    numeric = approx_fprime(theta, lambda t: gp._nll(t, diffs2)[0], 1e-6)
    np.testing.assert_allclose(analytic, numeric, rtol=1e-3, atol=1e-4)
    plain = GaussianProcess(x, _landscape(x))
    assert gp._nll(theta, diffs2)[0] > plain._nll(theta, diffs2)[0]  # the prior's penalty is there
