"""Verification of agent-written kernel code: static checks, then the verification harness in a
sandbox process of its own. The verdict names the rule that decided it."""

from __future__ import annotations

import random

from tuneforge.core.space import Config
from tuneforge.core.types import Problem, TrialStatus
from tuneforge.evaluators.agent_code.sandbox import Limits, SandboxRun, run_sandboxed
from tuneforge.evaluators.agent_code.static_checks import check_source
from tuneforge.evaluators.verify.plan import TimingRequest, Verdict, build_request
from tuneforge.kernels._triton_common import TritonTarget

MEMORY_SIGNS = ("MemoryError", "can't allocate memory", "Cannot allocate memory", "out of memory")
SIGNAL_RULES = {"SIGXCPU": (TrialStatus.TIMEOUT, "cpu-limit"), "SIGKILL": (TrialStatus.TIMEOUT, "cpu-limit"),
                "SIGXFSZ": (TrialStatus.INVALID, "file-limit")}
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

    ``static=False`` skips the static checks, to exercise the sandbox layers on their own.
    """
    if static and (rejected := static_verdict(source, function=target.function_name, dtype=problem.dtype)):
        return rejected
    request = build_request(target, problem, config, device=device, small=small, rng=_rng, source=source,
                            timing=timing)
    run = run_sandboxed("tuneforge.evaluators.agent_code.entry:verify", request.to_dict(), limits=limits, device=device)
    return verdict_of(run, limits)


def verdict_of(run: SandboxRun, limits: Limits) -> Verdict:
    """Turn what the sandbox saw into a verdict; the sandbox's own findings come first."""
    if run.blocked:
        kind, detail = run.blocked[0]
        return Verdict.fail(TrialStatus.INVALID, kind, f"sandbox blocked {kind}: {detail}")
    if run.timed_out:
        return Verdict.fail(TrialStatus.TIMEOUT, "timeout", f"no answer within {limits.wall_s:g} s; process killed")
    if run.signal in SIGNAL_RULES:
        status, rule = SIGNAL_RULES[run.signal]
        return Verdict.fail(status, rule, f"killed by {run.signal} (limits: {limits})")
    if run.reply is None:
        if run.memory_error:
            return Verdict.fail(TrialStatus.CRASHED, "memory-limit", run.error or "")
        return Verdict.fail(TrialStatus.CRASHED, "sandbox-error",
                            f"{run.error or 'no answer'} (exit {run.returncode}, {run.signal or 'no signal'})\n"
                            f"{run.stderr_tail}")
    verdict = Verdict.from_dict(run.reply)
    if not verdict.passed and verdict.status != TrialStatus.WRONG_RESULT and any(
            sign in verdict.message for sign in MEMORY_SIGNS):
        return Verdict.fail(TrialStatus.CRASHED, "memory-limit",
                            f"allocation beyond the {limits.memory_bytes} byte limit: {verdict.message}")
    return verdict
