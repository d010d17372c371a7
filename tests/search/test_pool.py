"""The pool's neighbourhoods: the one-parameter changes local search walks, and the descent's moves."""

from __future__ import annotations

import numpy as np

from tuneforge.core.space import Param, Space
from tuneforge.search.pool import ConfigPool, pool_for

from tests.search.helpers import grid_space


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


def test_a_forbidden_change_is_a_move_once_repaired_by_changing_one_other_parameter():
    space = grid_space()  # x + y <= 24
    pool = pool_for(space)
    anchor = {"x": 12, "y": 12, "z": 1}
    moves = pool.moves(pool.row(anchor))
    names = [p.name for p in space.params]
    found = {space.key(pool.config(int(r))): ({names[k] for k in np.flatnonzero(ps)}, bool(rep))
             for r, ps, rep in zip(moves.rows, moves.params, moves.repaired)}

    def move(**changes):
        return found.get(space.key(anchor | changes))

    assert move(x=3) == ({"x"}, False) and move(z=8) == ({"z"}, False)
    # x = 13 is forbidden with y = 12 kept: the configs with x = 13 and a lower y are its moves.
    assert move(x=13, y=11) == ({"x"}, True) and move(x=15, y=0) == ({"x"}, True)
    assert move(y=14, x=10) == ({"y"}, True)
    # Two changes that are each allowed alone are two moves, not one.
    assert move(x=11, y=11) is None and move(x=13, z=2) is None and move(x=3, z=2) is None
    singles = sum(1 for c in space.valid_configs() if sum(c[k] != anchor[k] for k in c) == 1)
    assert (~moves.repaired).sum() == singles
