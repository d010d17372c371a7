"""Optuna's own samplers, as registered strategies."""

from __future__ import annotations

import optuna

from tuneforge.search.encoding import distributions
from tuneforge.search.strategies._base import Strategy, StrategyContext


class TPE(Strategy):
    name = "tpe"
    description = "Tree-structured Parzen estimator (multivariate, constant liar for parallel batches)"
    multi_objective = True

    def sampler(self, ctx: StrategyContext) -> optuna.samplers.BaseSampler:
        return optuna.samplers.TPESampler(seed=ctx.seed, multivariate=True, constant_liar=ctx.parallelism > 1,
                                          n_startup_trials=min(10, max(1, ctx.budget_trials // 5)))


class RandomSearch(Strategy):
    name = "random"
    description = "uniform random sampling"
    multi_objective = True

    def sampler(self, ctx: StrategyContext) -> optuna.samplers.BaseSampler:
        return optuna.samplers.RandomSampler(seed=ctx.seed)


class Grid(Strategy):
    name = "grid"
    description = "every point of the space once, in a seeded random order"
    multi_objective = True

    def sampler(self, ctx: StrategyContext) -> optuna.samplers.BaseSampler:
        grid = {name: (list(range(d.high + 1)) if isinstance(d, optuna.distributions.IntDistribution)
                       else list(d.choices)) for name, d in distributions(ctx.space).items()}
        return optuna.samplers.GridSampler(grid, seed=ctx.seed)


class CmaEs(Strategy):
    name = "cmaes"
    description = "CMA-ES over parameter indices (single objective)"

    def sampler(self, ctx: StrategyContext) -> optuna.samplers.BaseSampler:
        return optuna.samplers.CmaEsSampler(seed=ctx.seed, n_startup_trials=min(5, ctx.budget_trials),
                                            warn_independent_sampling=False)


class NSGA2(Strategy):
    name = "nsga2"
    description = "NSGA-II genetic algorithm for Pareto fronts"
    multi_objective = True

    def sampler(self, ctx: StrategyContext) -> optuna.samplers.BaseSampler:
        return optuna.samplers.NSGAIISampler(seed=ctx.seed, population_size=max(8, min(50, ctx.budget_trials // 5)))


STRATEGIES = [TPE, RandomSearch, Grid, CmaEs, NSGA2]
