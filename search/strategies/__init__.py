"""Strategy registry: each module here exposing ``STRATEGIES`` (a list of Strategy classes)."""

from __future__ import annotations

import importlib
import pkgutil
from functools import lru_cache

from tuneforge.core.errors import UserInputError
from tuneforge.search.strategies._base import Strategy


@lru_cache(maxsize=1)
def all_strategies() -> dict[str, type[Strategy]]:
    found: dict[str, type[Strategy]] = {}
    for info in pkgutil.iter_modules(__path__):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{__name__}.{info.name}")
        for cls in getattr(module, "STRATEGIES", ()):
            found[cls.name] = cls
    return dict(sorted(found.items()))


def get_strategy(name: str) -> Strategy:
    strategies = all_strategies()
    if name not in strategies:
        raise UserInputError(f"unknown strategy {name!r}; use one of: {', '.join(strategies)}")
    return strategies[name]()
