"""The valid points of a space as an index matrix that model-based strategies score at once.

A recorded space knows its allowed points and a kernel space with constraints is usually
small enough to enumerate, so strategies pick among valid configs only and never spend a
trial on a forbidden one. A space too large to enumerate is represented by a fixed sample
of valid points.
"""

from __future__ import annotations

import random
import threading
from dataclasses import dataclass

import numpy as np

from tuneforge.core.space import Config, Space

# Spaces whose cartesian product is larger than this are sampled, not enumerated.
MAX_ENUMERATED = 300_000
SAMPLED_POINTS = 20_000
_BUILDING = threading.Lock()


@dataclass(frozen=True)
class Moves:
    """The configs one move from a config (``ConfigPool.moves``), row by row: ``params``, the
    parameters whose move each is (rows x parameters, bool); ``repaired``, whether it is a
    forbidden change repaired by changing one other parameter."""

    rows: np.ndarray
    params: np.ndarray
    repaired: np.ndarray


class ConfigPool:
    def __init__(self, space: Space, configs: list[Config], *, complete: bool = True) -> None:
        self.space = space
        self.complete = complete  # every valid config of the space is in the pool (not a sample)
        self.keys = [space.key(c) for c in configs]
        self.row_of = {key: row for row, key in enumerate(self.keys)}
        self.index = np.array([[p.index(c[p.name]) for p in space.params] for c in configs], dtype=np.int64)
        sizes = np.array([len(p.values) for p in space.params])
        # Unit-cube coordinates; a parameter with one value carries no information and is dropped.
        varying = sizes > 1
        self.features = (self.index[:, varying] / (sizes[varying] - 1)).astype(np.float64)
        self._sizes = sizes
        self._ordinal = np.array([p.ordinal for p in space.params])
        # distances(): an index step, capped at 1 for a categorical parameter, times its weight.
        self._step_cap = np.where(self._ordinal, np.iinfo(np.int32).max, 1).astype(np.int32)
        self._step_weight = np.where(self._ordinal, 1.0 / np.maximum(sizes - 1, 1), 1.0)
        self._index32 = self.index.astype(np.int32)
        self._groups: list[dict[int, np.ndarray]] | None = None
        self._codes: list[np.ndarray] | None = None

    def __len__(self) -> int:
        return len(self.keys)

    def config(self, row: int) -> Config:
        return self.space.from_key(self.keys[row])

    def row(self, config: Config) -> int | None:
        return self.row_of.get(self.space.key(config))

    def distances(self, config: Config) -> np.ndarray:
        """How far each pool config lies from ``config`` (which may be invalid): an ordinal parameter
        adds its index distance scaled to [0, 1], any other parameter 1 when it differs."""
        target = np.array([p.index(config[p.name]) for p in self.space.params], dtype=np.int32)
        return np.minimum(np.abs(self._index32 - target), self._step_cap) @ self._step_weight

    def neighbours(self, row: int) -> np.ndarray:
        """Rows that differ from ``row`` in exactly one parameter (any value of it)."""
        self._index_neighbourhoods()
        found = [self._groups[k][self._codes[k][row]] for k in range(len(self._sizes)) if self._sizes[k] > 1]
        rows = np.concatenate(found) if found else np.empty(0, dtype=np.int64)
        return rows[rows != row]

    def moves(self, row: int) -> Moves:
        """The configs one move from ``row``. A move changes one parameter; where the space
        forbids a value of it with the other parameters kept, the configs that take that value
        and change one other parameter are its moves too (the forbidden change, repaired), so a
        constraint does not wall a config in."""
        anchor = self.index[row]
        diff = self.index != anchor
        changes = diff.sum(1)
        single, two = np.flatnonzero(changes == 1), np.flatnonzero(changes == 2)
        single_moved = diff[single]
        allowed = np.zeros((len(anchor), int(self._sizes.max())), dtype=bool)  # [parameter, value]
        changed = single_moved.argmax(1)
        allowed[changed, self.index[single, changed]] = True
        forbidden = diff[two] & ~allowed[np.arange(len(anchor)), self.index[two]]
        repaired = forbidden.any(1)
        return Moves(rows=np.concatenate([single, two[repaired]]),
                     params=np.concatenate([single_moved, forbidden[repaired]]),
                     repaired=np.arange(len(single) + int(repaired.sum())) >= len(single))

    def _index_neighbourhoods(self) -> None:
        if self._groups is not None:
            return
        # Rows that agree on every parameter but k are k-neighbours: they share the code of their
        # parameters before k and the code of those after it. Codes are ranks among the pool's rows
        # (below len(pool)), so they cannot overflow however large the space's product is.
        d = self.index.shape[1]
        after = [np.zeros(len(self), dtype=np.int64)]  # after[j]: code of the parameters from d - j on
        for k in reversed(range(d)):
            after.append(_rank_pairs(self.index[:, k], after[-1]))
        before = np.zeros(len(self), dtype=np.int64)
        self._codes, self._groups = [], []
        for k in range(d):
            code = _rank_pairs(before, after[d - k - 1])
            order = np.argsort(code, kind="stable")
            bounds = np.searchsorted(code[order], np.arange(int(code.max(initial=-1)) + 2))
            self._codes.append(code)
            self._groups.append({g: order[bounds[g]:bounds[g + 1]] for g in range(len(bounds) - 1)})
            before = _rank_pairs(before, self.index[:, k])


def _rank_pairs(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """One number per row for the pair (a, b), equal exactly when both are: the pair's rank
    (0, 1, ... without gaps, so it can number groups directly)."""
    return np.unique(a * (int(b.max(initial=0)) + 1) + b, return_inverse=True)[1].reshape(-1)


def pool_for(space: Space) -> ConfigPool:
    """The pool of a space, built once per space object and kept on it (jobs in threads of one
    process share a device's space: the first builds its pool, the others wait for it)."""
    pool = getattr(space, "_config_pool", None)
    if pool is not None:
        return pool
    with _BUILDING:
        return _pool_of(space)


def _pool_of(space: Space) -> ConfigPool:
    pool = getattr(space, "_config_pool", None)
    if pool is None:
        complete = space.allowed is not None or space.cartesian_size <= MAX_ENUMERATED
        if complete:
            configs = list(space.valid_configs())
        else:
            rng = random.Random(0)
            unique = {space.key(c): c for c in (space.sample_valid(rng) for _ in range(SAMPLED_POINTS))}
            configs = list(unique.values())
        pool = ConfigPool(space, configs, complete=complete)
        space._config_pool = pool
    return pool
