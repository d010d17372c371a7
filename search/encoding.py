"""How a discrete space looks to Optuna.

Ordinal parameters (increasing numbers) become integer indices into their value
list, so samplers that model distances (TPE, CMA-ES, GP) see neighbours as
neighbours; other parameters stay categorical.
"""

from __future__ import annotations

from typing import Any

from optuna.distributions import BaseDistribution, CategoricalDistribution, IntDistribution

from tuneforge.core.space import Config, Space


def distributions(space: Space) -> dict[str, BaseDistribution]:
    return {p.name: IntDistribution(0, len(p.values) - 1) if p.ordinal else CategoricalDistribution(p.values)
            for p in space.params}


def encode(space: Space, config: Config) -> dict[str, Any]:
    return {p.name: p.index(config[p.name]) if p.ordinal else config[p.name] for p in space.params}


def decode(space: Space, params: dict[str, Any]) -> Config:
    return {p.name: p.values[int(params[p.name])] if p.ordinal else params[p.name] for p in space.params}
