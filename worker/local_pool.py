"""Embedded mode: the same task functions, run by a local process pool instead of Celery."""

from __future__ import annotations

import multiprocessing
from collections.abc import Generator, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from typing import Any

from core.settings import Settings
from core.types import TrialResult, TrialStatus
from evaluators.run import evaluate_baseline, evaluate_candidate


class LocalPoolEvaluator:
    """Evaluates candidates in ``settings.embedded_workers`` spawned processes.

    A candidate that kills its process or overruns the time limit becomes a
    ``crashed``/``timeout`` result; the pool is rebuilt and the other candidates
    of the batch are still evaluated.
    """

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._settings_dict = settings.model_dump(mode="json")
        self._pool: ProcessPoolExecutor | None = None

    def _executor(self) -> ProcessPoolExecutor:
        if self._pool is None:
            self._pool = ProcessPoolExecutor(self.settings.embedded_workers,
                                             mp_context=multiprocessing.get_context("spawn"))
        return self._pool

    def _discard_pool(self) -> None:
        if self._pool is not None:
            for process in list(getattr(self._pool, "_processes", {}).values()):
                process.kill()
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = None

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None

    def evaluate(self, device: str, target: str, problem: dict[str, Any],
                 candidates: list[dict[str, Any]]) -> Iterator[tuple[int, dict[str, Any]]]:
        rounds = [list(range(len(candidates)))]
        while rounds:
            indices = rounds.pop(0)
            broken = yield from self._round(device, target, problem, candidates, indices)
            if broken:
                # A candidate killed its process and the pool cannot tell which: evaluate the
                # unfinished ones again, one per round, so only the culprit is reported crashed.
                self._discard_pool()
                if len(indices) == 1:
                    yield indices[0], _failure(TrialStatus.CRASHED, device, "the evaluation process died")
                else:
                    rounds.extend([i] for i in broken)

    def _round(self, device: str, target: str, problem: dict[str, Any], candidates: list[dict[str, Any]],
               indices: list[int]) -> Generator[tuple[int, dict[str, Any]], None, list[int]]:
        futures: dict[Future, int] = {
            self._executor().submit(evaluate_candidate, device, target, problem, candidates[i],
                                    self._settings_dict): i for i in indices}
        broken: list[int] = []
        waiting = set(futures)
        while waiting:
            done, waiting = wait(waiting, timeout=self.settings.eval_timeout_s, return_when=FIRST_COMPLETED)
            if not done:  # nothing finished in time: the running ones overran
                for future in waiting:
                    yield futures[future], _failure(TrialStatus.TIMEOUT, device,
                                                    f"no result within {self.settings.eval_timeout_s:g} s")
                self._discard_pool()
                return broken
            for future in done:
                try:
                    yield futures[future], future.result()
                except BrokenProcessPool:
                    broken.append(futures[future])
                except Exception as exc:  # noqa: BLE001 - any failure is a result, never lost
                    yield futures[future], _failure(TrialStatus.CRASHED, device, repr(exc))
        return broken

    def baseline(self, device: str, target: str, problem: dict[str, Any]) -> dict[str, Any] | None:
        return self._executor().submit(evaluate_baseline, device, target, problem, self._settings_dict).result(
            timeout=self.settings.eval_timeout_s)


def _failure(status: TrialStatus, device: str, log: str) -> dict[str, Any]:
    return TrialResult.failure(status, log, device_name=device).to_dict()
