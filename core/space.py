"""Discrete tuning spaces: named parameters with ordered values, and constraints.

GPU tuning parameters (block sizes, warps, stages, vector widths) are discrete and
mostly ordinal, so a space is a product of ordered value lists minus the points
that constraints forbid. A space may also be given as an explicit set of allowed
points (a recorded tuning space knows exactly which configs exist).
"""

from __future__ import annotations

import itertools
import random
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from tuneforge.core.errors import UserInputError

Config = dict[str, Any]


@dataclass(frozen=True)
class Param:
    name: str
    values: tuple[Any, ...]

    def __post_init__(self) -> None:
        if not self.values:
            raise ValueError(f"parameter {self.name!r} has no values")

    @property
    def ordinal(self) -> bool:
        """Numeric values in increasing order: neighbours in the list are neighbours in effect."""
        return all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in self.values) and list(
            self.values) == sorted(self.values)

    def index(self, value: Any) -> int:
        try:
            return self.values.index(value)
        except ValueError:
            raise UserInputError(f"{self.name}={value!r} is not in the space; allowed: {list(self.values)}") from None


@dataclass(frozen=True)
class Constraint:
    """A rule every valid config satisfies; ``text`` is shown to users and agents."""

    text: str
    check: Callable[[Config], bool]


@dataclass
class Space:
    params: list[Param]
    constraints: list[Constraint] = field(default_factory=list)
    allowed: frozenset[tuple] | None = None  # explicit set of valid points, in ``params`` order

    def __post_init__(self) -> None:
        self._by_name = {p.name: p for p in self.params}

    @property
    def names(self) -> list[str]:
        return [p.name for p in self.params]

    def param(self, name: str) -> Param:
        return self._by_name[name]

    def key(self, config: Config) -> tuple:
        return tuple(config[p.name] for p in self.params)

    def from_key(self, key: Sequence[Any]) -> Config:
        return dict(zip(self.names, key))

    @property
    def cartesian_size(self) -> int:
        size = 1
        for p in self.params:
            size *= len(p.values)
        return size

    def violations(self, config: Config) -> list[str]:
        """Why ``config`` is not a valid point (empty when it is)."""
        missing = [n for n in self.names if n not in config]
        if missing:
            return [f"missing parameters {missing}"]
        extra = [n for n in config if n not in self._by_name]
        if extra:
            return [f"unknown parameters {extra}; the space has {self.names}"]
        out = [f"{p.name}={config[p.name]!r} not in {list(p.values)}" for p in self.params
               if config[p.name] not in p.values]
        if out:
            return out
        if self.allowed is not None and self.key(config) not in self.allowed:
            return ["this combination is not among the space's allowed configurations"]
        return [c.text for c in self.constraints if not c.check(config)]

    def is_valid(self, config: Config) -> bool:
        return not self.violations(config)

    def valid_configs(self) -> Iterator[Config]:
        """Every valid point; deterministic order."""
        if self.allowed is not None:
            for key in sorted(self.allowed, key=_sort_key):
                config = self.from_key(key)
                if all(c.check(config) for c in self.constraints):
                    yield config
            return
        for values in itertools.product(*(p.values for p in self.params)):
            config = dict(zip(self.names, values))
            if all(c.check(config) for c in self.constraints):
                yield config

    def sample_valid(self, rng: random.Random, tries: int = 10_000) -> Config:
        """A uniformly drawn valid point (rejection sampling over the product, or a draw from ``allowed``)."""
        if self.allowed is not None:
            pool = self._allowed_list()
            return self.from_key(pool[rng.randrange(len(pool))])
        for _ in range(tries):
            config = {p.name: rng.choice(p.values) for p in self.params}
            if all(c.check(config) for c in self.constraints):
                return config
        configs = list(self.valid_configs())
        if not configs:
            raise UserInputError("the space has no valid configuration for this problem: relax its constraints "
                                 "or choose another problem size")
        return rng.choice(configs)

    def _allowed_list(self) -> list[tuple]:
        if not hasattr(self, "_allowed_sorted"):
            self._allowed_sorted = sorted(self.allowed or (), key=_sort_key)
        return self._allowed_sorted

    def describe(self) -> dict[str, Any]:
        """JSON-friendly summary for the API, the dashboard and agent prompts."""
        return {
            "params": {p.name: list(p.values) for p in self.params},
            "constraints": [c.text for c in self.constraints],
            "cartesian_size": self.cartesian_size,
            "allowed_size": len(self.allowed) if self.allowed is not None else None,
        }


def _sort_key(key: Iterable[Any]) -> tuple:
    return tuple((0, v, "") if isinstance(v, (int, float)) else (1, 0, str(v)) for v in key)
