"""Contract of every registered strategy, and what the pool-based ones promise beyond it."""

from __future__ import annotations

import random
from types import SimpleNamespace

import numpy as np
import pytest

from tuneforge.core.space import Constraint, Param, Space
from tuneforge.core.types import Candidate, TrialResult, TrialStatus
from tuneforge.search.engine import SearchEngine
from tuneforge.search.results import pareto_front
from tuneforge.search.strategies import all_strategies, get_strategy
from tuneforge.search.strategies._base import HistoryItem
from tests.search.helpers import bowl, context, grid_space, run_engine

RUNNABLE = [name for name, cls in all_strategies().items() if not cls.needs_llm]
POOL_BASED = ["bo", "local", "bandit"]


@pytest.mark.parametrize("strategy", RUNNABLE)
def test_no_trial_goes_to_a_forbidden_or_repeated_config(strategy):
    space = grid_space()
    engine = run_engine(strategy, context(space, parallelism=3), trials=30)
    keys = [space.key(h.candidate.params) for h in engine.history]
    assert all(space.is_valid(h.candidate.params) for h in engine.history)
    assert len(set(keys)) == len(keys) == 30


@pytest.mark.parametrize("strategy", POOL_BASED)
def test_pool_strategies_propose_only_valid_unseen_distinct_configs(strategy):
    space = grid_space()
    ctx = context(space)
    history = [HistoryItem(i, Candidate(c), bowl(c)) for i, c in enumerate(
        random.Random(1).sample(list(space.valid_configs()), 12))]
    proposals = get_strategy(strategy).propose(ctx, history, 8)
    keys = [space.key(c.params) for c in proposals]
    seen = {space.key(h.candidate.params) for h in history}
    assert len(keys) == 8 and len(set(keys)) == 8, "a batch must hold distinct configs"
    assert not seen & set(keys)
    assert all(space.is_valid(c.params) for c in proposals)
    assert all(c.origin.startswith(f"{strategy}:") for c in proposals)


def test_batch_of_the_engine_is_distinct_for_parallel_workers():
    space = grid_space()
    engine = run_engine("bo", context(space, parallelism=6), trials=12)
    batch = engine.ask(6)
    keys = {space.key(p.candidate.params) for p in batch}
    assert len(keys) == 6 and not keys & {space.key(h.candidate.params) for h in engine.history}


@pytest.mark.parametrize("strategy", RUNNABLE)
def test_asking_one_at_a_time_while_others_run_never_repeats_a_pending_config(strategy):
    space = grid_space()
    engine = run_engine(strategy, context(space, parallelism=4), trials=12)
    running = engine.ask(4)
    for _ in range(8):  # a worker frees up: tell its result, ask for one while three still run
        done = running.pop(0)
        engine.tell(done, bowl(done.candidate.params))
        running += engine.ask(1)
        keys = [space.key(p.candidate.params) for p in running]
        assert len(set(keys)) == 4
        assert not set(keys) & {space.key(h.candidate.params) for h in engine.history}


@pytest.mark.parametrize("strategy", ["bo", "bandit"])
def test_failures_steer_the_search_away_from_failing_regions(strategy):
    space = grid_space()

    def late_failures(name: str) -> int:
        runs = [run_engine(name, context(space, seed=s), trials=40).history[15:] for s in range(6)]
        return sum(h.result.status == TrialStatus.COMPILE_ERROR for run in runs for h in run)

    # About a third of the valid configs fail; once a model has seen some failures it should
    # spend far fewer trials there than uniform sampling does.
    assert late_failures(strategy) <= 0.5 * late_failures("random")


def test_model_based_search_beats_random_on_a_smooth_landscape():
    space = grid_space()
    best = {}
    for strategy in ("bo", "random"):
        best[strategy] = np.median([run_engine(strategy, context(space, seed=s), trials=25).best_value
                                    for s in range(8)])
    assert best["bo"] < best["random"]
    assert best["bo"] <= 3.5  # near the optimum (1.0): x and y right with z one value off is 3.0


@pytest.mark.parametrize("strategy", POOL_BASED)
def test_two_objectives_give_a_pareto_front(strategy):
    space = grid_space()
    engine = run_engine(strategy, context(space, objectives=("time_ms", "energy_j")), trials=30)
    from tuneforge.core.types import Objective

    rows = [SimpleNamespace(feasible=h.result.ok, number=h.number,
                            values=h.result.objective_values([Objective("time_ms"), Objective("energy_j")]))
            for h in engine.history]
    front = pareto_front(rows, [Objective("time_ms"), Objective("energy_j")])
    assert len(front) >= 2
    times = [t.values[0] for t in front]
    energies = [t.values[1] for t in front]
    assert times == sorted(times) and energies == sorted(energies, reverse=True)


def test_a_failed_result_is_a_result_not_an_error():
    space = grid_space()
    engine = run_engine("bo", context(space), trials=15,
                        evaluate=lambda c: TrialResult.failure(TrialStatus.CRASHED, "boom"))
    assert engine.n_told == 15 and engine.best_value is None


def test_a_new_kernel_source_at_a_tried_config_is_a_new_candidate():
    config = {"x": 1, "y": 1, "z": 1}
    variants = [Candidate(config), Candidate(config, source="v1"), Candidate(config, source="v1"),
                Candidate(config, source="v2"), Candidate(config)]
    engine = SearchEngine(get_strategy("random"), context(grid_space()), warm_start=variants)
    batch = engine.ask(4)
    assert [(p.candidate.params, p.candidate.source) for p in batch[:3]] == [(config, None), (config, "v1"),
                                                                             (config, "v2")]
    assert batch[3].candidate.params != config, "the plain config was already asked"


RESTARTS = {"restarts": True}


def test_restarts_are_off_unless_asked_for():
    space = grid_space()
    history = _stalled_history(space, quiet=45)
    [pick] = get_strategy("bandit").propose(context(space, budget=100), history, 1)
    assert pick.origin != "bandit:restart"


def _stalled_history(space, quiet: int) -> list[HistoryItem]:
    """The optimum's basin found early, then ``quiet`` trials elsewhere that found nothing better."""
    configs = sorted(space.valid_configs(), key=lambda c: bowl(c).metrics.get("time_ms", 1e9))
    good = [c for c in configs if bowl(c).ok][:5]
    rest = [c for c in random.Random(3).sample(configs, 80) if c not in good][:quiet]
    return [HistoryItem(i, Candidate(c, origin="bandit:model"), bowl(c)) for i, c in enumerate(good + rest)]


def test_a_stalled_bandit_hops_out_of_the_best_neighbourhood_and_descends_from_there():
    space = grid_space()
    history = _stalled_history(space, quiet=45)
    [jump] = get_strategy("bandit").propose(context(space, budget=100, options=RESTARTS), history, 1)
    assert jump.origin == "bandit:restart"
    best = history[0].candidate.params
    assert sum(jump.params[k] != best[k] for k in ("x", "y", "z")) >= 2, "a restart leaves the best's neighbourhood"
    history.append(HistoryItem(len(history), jump, bowl(jump.params)))
    [step] = get_strategy("bandit").propose(context(space, budget=100, options=RESTARTS), history, 1)
    assert step.origin == "bandit:descent"
    if bowl(jump.params).ok:
        assert sum(step.params[k] != jump.params[k] for k in ("x", "y", "z")) == 1, "a descent moves one parameter"


def test_no_restart_before_a_stall_or_without_budget_left_to_use_it():
    space = grid_space()
    assert get_strategy("bandit").propose(context(space, budget=100, options=RESTARTS), _stalled_history(space, 8), 1)[0].origin \
        != "bandit:restart"
    late = _stalled_history(space, 45)
    assert get_strategy("bandit").propose(context(space, budget=len(late) + 3, options=RESTARTS), late, 1)[0].origin \
        != "bandit:restart"


def test_the_sampler_is_asked_at_most_twice_per_trial_on_a_tight_space():
    # Each ask fits the sampler's model over the whole history. Asking again after every forbidden or
    # repeated proposal cost about ten asks per trial where a tenth of the space is valid.
    space = Space([Param("x", tuple(range(16))), Param("y", tuple(range(16))), Param("z", (1, 2, 4, 8))],
                  constraints=[Constraint("x + y <= 6", lambda c: c["x"] + c["y"] <= 6)])
    engine = run_engine("tpe", context(space, budget=25), trials=25)
    assert len(engine.study.trials) <= 2 * 25  # one ask, plus one enqueued repair when it was rejected
    assert any(h.candidate.note for h in engine.history), "the space should force some repairs"


def test_the_model_runs_with_one_blas_thread(monkeypatch):
    from threadpoolctl import threadpool_info

    from tuneforge.search.techniques import ModelPick

    seen_threads: list[int] = []
    pick = ModelPick.pick

    def recording_pick(self, *args, **kwargs):
        seen_threads.extend(lib["num_threads"] for lib in threadpool_info() if lib["user_api"] == "blas")
        return pick(self, *args, **kwargs)

    monkeypatch.setattr(ModelPick, "pick", recording_pick)
    space = grid_space()
    history = [HistoryItem(i, Candidate(c), bowl(c)) for i, c in enumerate(
        random.Random(2).sample(list(space.valid_configs()), 12))]
    get_strategy("bo").propose(context(space), history, 2)
    assert seen_threads and set(seen_threads) == {1}
