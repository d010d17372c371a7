"""Verification of agent-written kernel code: static checks, then the candidate in a sandboxed
child while the trusted parent judges its output. The verdict names the rule that decided it."""

from __future__ import annotations

import random

from tuneforge.core.space import Config
from tuneforge.core.types import Problem, TrialStatus
from tuneforge.evaluators.agent_code.sandbox import Limits
from tuneforge.evaluators.agent_code.static_checks import check_source
from tuneforge.evaluators.verify.plan import TimingRequest, Verdict, build_request
from tuneforge.kernels._triton_common import TritonTarget

_rng = random.SystemRandom()


def static_verdict(source: str, *, function: str, dtype: str | None) -> Verdict | None:
    """A rejection by the static checks, or None when the code may run."""
    violations = check_source(source, function=function, dtype=dtype)
    if not violations:
        return None
    first = violations[0]
    status = TrialStatus.COMPILE_ERROR if first.rule == "syntax" else TrialStatus.INVALID
    return Verdict.fail(status, first.rule, "; ".join(str(v) for v in violations[:6]))


def verify_agent_source(target: TritonTarget, problem: Problem, config: Config, source: str, *,
                        device: str = "cpu", small: bool = True, limits: Limits = Limits(),
                        timing: TimingRequest | None = None, static: bool = True) -> Verdict:
    """Verify ``source`` (a module defining ``target.function_name``) run with ``config``.

    ``static=False`` skips the static checks, to exercise the run-time layers on their own.
    """
    if static and (rejected := static_verdict(source, function=target.function_name, dtype=problem.dtype)):
        return rejected
    request = build_request(target, problem, config, device=device, small=small, rng=_rng, source=source,
                            timing=timing, fresh_shapes=True)
    from tuneforge.evaluators.agent_code.supervise import verify_in_sandbox  # imports torch

    return verify_in_sandbox(request, limits)
