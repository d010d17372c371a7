"""The service bench splits a trial's time into the sampler's own and what runs around it."""

from __future__ import annotations

import time

import optuna

from tuneforge.bench.service import time_in_sampler


class SlowSampler(optuna.samplers.RandomSampler):
    def sample_independent(self, study, trial, name, distribution):
        time.sleep(0.01)
        return super().sample_independent(study, trial, name, distribution)

    def before_trial(self, study, trial):
        self.sample_relative(study, trial, {})  # a nested call is counted once, with its caller
        time.sleep(0.005)


def test_time_in_the_sampler_is_counted_once_and_the_class_is_restored() -> None:
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(sampler=SlowSampler(seed=0))
    with time_in_sampler(SlowSampler) as spent:
        study.optimize(lambda t: t.suggest_float("x", 0, 1) + t.suggest_float("y", 0, 1), n_trials=5)
    # 5 trials x (2 parameters x 10 ms + 5 ms before each)
    assert 0.125 <= spent[0] < 0.4
    assert "before_trial" in vars(SlowSampler) and "sample_relative" not in vars(SlowSampler)
    assert SlowSampler.sample_independent.__qualname__ == "SlowSampler.sample_independent"
    frozen = spent[0]
    study.optimize(lambda t: t.suggest_float("x", 0, 1), n_trials=2)
    assert spent[0] == frozen
