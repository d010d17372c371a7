"""The pool's one-parameter neighbourhoods, which local search and the descent walk."""

from __future__ import annotations

from tuneforge.core.space import Param, Space
from tuneforge.search.pool import ConfigPool


def test_neighbours_are_exact_on_a_space_larger_than_int64():
    # 8**24 = 2**72 combinations: one mixed-radix number per config would overflow int64.
    params = [Param(f"p{i}", tuple(range(8))) for i in range(24)]
    base = {p.name: 0 for p in params}
    last_only, first_only = base | {"p23": 5}, base | {"p0": 3}
    first_and_last = base | {"p0": 3, "p23": 5}
    configs = [base, last_only, first_only, first_and_last]
    pool = ConfigPool(Space(params, allowed=frozenset(Space(params).key(c) for c in configs)), configs)

    def neighbours(config):
        return sorted(int(r) for r in pool.neighbours(pool.row(config)))

    assert neighbours(base) == sorted([pool.row(last_only), pool.row(first_only)])
    assert neighbours(first_and_last) == sorted([pool.row(last_only), pool.row(first_only)])
    assert neighbours(last_only) == sorted([pool.row(base), pool.row(first_and_last)])
