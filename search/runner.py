"""Where a job's candidates are evaluated: the seam between the tuning loop and the processes.

Two implementations: a local process pool (``tuneforge.worker.local_pool``) and Celery queues
(``tuneforge.worker.celery_runner``). Both hand the evaluation functions the same settings dict.
"""

from __future__ import annotations

from typing import Any, Protocol

from tuneforge.core.settings import Settings
from tuneforge.evaluators.registry import TargetRef

# Settings a job's loop holds that an evaluation process has no business seeing or must take from
# its own machine (where the broker and database are, secrets).
_NOT_FOR_EVALUATION = {"database_url", "broker_url", "llm_api_key", "api_host", "api_port"}


def evaluation_settings(settings: Settings) -> dict[str, Any]:
    """The JSON settings every evaluation receives, in either mode."""
    return settings.model_dump(mode="json", exclude=_NOT_FOR_EVALUATION)


class RunnerSession(Protocol):
    """One job's candidates in flight."""

    @property
    def in_flight(self) -> int: ...

    def submit(self, key: int, candidate: dict[str, Any]) -> None: ...

    def wait(self, timeout: float) -> list[tuple[int, dict[str, Any]]]:
        """Block up to ``timeout`` seconds for results; return (key, result) of each finished
        candidate (possibly none). A candidate that overran the evaluation timeout comes back as a
        ``timeout`` result, one whose process died as ``crashed``: none is ever lost."""

    def close(self) -> None:
        """Stop waiting for this job's candidates (cancelled, finished or taken over)."""


class EvaluationRunner(Protocol):
    """Hands candidates to evaluation processes and their results back to the loop."""

    def session(self, job_id: str, device: str, target: TargetRef, problem: dict[str, Any]) -> RunnerSession: ...

    def baseline(self, job_id: str, device: str, target: TargetRef,
                 problem: dict[str, Any]) -> dict[str, Any] | None: ...

    def close(self) -> None: ...
