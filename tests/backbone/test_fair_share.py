"""How the evaluation slots of a queue are split among running jobs and their accounts."""

from __future__ import annotations

from tuneforge.worker.fair_share import Demand, fair_shares, water_fill


def test_each_account_gets_an_equal_part_whatever_its_jobs_ask_for():
    demands = [Demand("a1", "alice", 4), Demand("a2", "alice", 4), Demand("a3", "alice", 4), Demand("b1", "bob", 4)]
    shares = fair_shares(8, demands)
    assert shares["b1"] == 4
    assert sorted(shares[j] for j in ("a1", "a2", "a3")) == [1, 1, 2]


def test_what_an_account_leaves_unused_goes_to_the_others():
    shares = fair_shares(10, [Demand("a", "alice", 8), Demand("b", "bob", 1), Demand("c", "carol", 3)])
    assert shares == {"a": 6, "b": 1, "c": 3}


def test_jobs_never_get_more_than_they_ask_for():
    assert fair_shares(64, [Demand("a", "alice", 2), Demand("b", "bob", 3)]) == {"a": 2, "b": 3}


def test_every_job_keeps_a_slot_when_jobs_outnumber_slots():
    shares = fair_shares(2, [Demand(f"j{i}", f"acct{i}", 2) for i in range(5)])
    assert shares == {f"j{i}": 1 for i in range(5)}


def test_without_live_slots_every_job_keeps_one():
    assert fair_shares(0, [Demand("a", None, 4)]) == {"a": 1}


def test_water_fill_splits_exactly_the_capacity():
    assert water_fill(7, {"x": 10, "y": 2, "z": 10}) == {"x": 3, "y": 2, "z": 2}  # the remainder in order
