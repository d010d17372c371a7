"""The trusted side of verifying agent code: inputs, originals, references, comparison, verdict.

The candidate runs in a :class:`~evaluators.agent_code.sandbox.Sandbox` child that gets only
the inputs of each check and sends back raw bytes (the output, and the inputs as they are
afterwards). Everything that decides the verdict happens here, on this process's own copies.
"""

from __future__ import annotations

import time
from contextlib import ExitStack
from typing import Any

import torch

from tuneforge.core.types import TrialStatus
from tuneforge.evaluators.agent_code import frames
from tuneforge.evaluators.agent_code.redact import redact
from tuneforge.evaluators.agent_code.sandbox import Limits, Sandbox, SandboxUnavailable, tool_dirs
from tuneforge.evaluators.verify.contract import check_contract
from tuneforge.evaluators.verify.harness import judge
from tuneforge.evaluators.verify.inputs import empty_output, make_inputs
from tuneforge.evaluators.verify.loading import load_impl
from tuneforge.evaluators.verify.plan import RuleFailed, Verdict, VerifyRequest

MEMORY_SIGNS = ("MemoryError", "can't allocate memory", "Cannot allocate memory", "out of memory")
SIGNAL_RULES = {"SIGXCPU": (TrialStatus.TIMEOUT, "cpu-limit"), "SIGKILL": (TrialStatus.TIMEOUT, "cpu-limit"),
                "SIGXFSZ": (TrialStatus.INVALID, "file-limit")}
CALLING_CONTRACT = ("the function is called as f(*inputs, out=out, **config): it writes the result into `out` and "
                    "returns it (or takes no `out` and returns a new tensor of the output's shape and dtype)")


def _tensor(data: bytes, like: torch.Tensor) -> torch.Tensor:
    if len(data) != like.numel() * like.element_size():
        raise RuleFailed(TrialStatus.WRONG_RESULT, "output-not-returned", "the sandbox sent back a tensor of the "
                                                                          "wrong size")
    flat = torch.frombuffer(bytearray(data), dtype=torch.uint8) if data else torch.empty(0, dtype=torch.uint8)
    return flat.view(like.dtype).reshape(like.shape)


def _spec(t: torch.Tensor) -> dict[str, Any]:
    return {"shape": list(t.shape), "dtype": str(t.dtype).removeprefix("torch.")}


def _raised(answer: dict[str, Any], scratch: str) -> RuleFailed:
    """What the candidate's exception means; the message is rebuilt from the child's text, redacted."""
    message = redact(answer.get("error", ""), scratch=scratch)
    if answer.get("rejected_ops"):
        return RuleFailed(TrialStatus.INVALID, "library-compute",
                          redact(f"host code ran torch compute: {answer['rejected_ops'][0]}", scratch=scratch))
    if answer.get("blocked"):
        kind, detail = answer["blocked"][0]
        return RuleFailed(TrialStatus.INVALID, kind, redact(f"sandbox blocked {kind}: {detail}", scratch=scratch))
    names = set(answer.get("error_types", ()))
    if "File too large" in message or "No space left on device" in message:
        return RuleFailed(TrialStatus.INVALID, "file-limit", message)
    if names & {"FileNotFoundError", "PermissionError", "IsADirectoryError"}:
        return RuleFailed(TrialStatus.INVALID, "file-read", f"{message} (inside the sandbox only the interpreter, "
                                                            "its libraries and a private scratch directory exist)")
    if "Too many open files" in message:
        return RuleFailed(TrialStatus.INVALID, "open-files-limit", message)
    if "OutOfResources" in names:
        return RuleFailed(TrialStatus.INVALID, "out-of-resources", message)
    if names & {"MemoryError", "OutOfMemoryError"} or any(s in message for s in MEMORY_SIGNS):
        return RuleFailed(TrialStatus.CRASHED, "memory-limit", message)
    if names & {"CompilationError", "InterpreterError", "SyntaxError", "ImportError", "LookupError"}:
        return RuleFailed(TrialStatus.COMPILE_ERROR, "compile", message)
    if "TypeError" in names and "out" in message:
        return RuleFailed(TrialStatus.CRASHED, "calling-contract", f"{message}; {CALLING_CONTRACT}")
    return RuleFailed(TrialStatus.CRASHED, "raised", message)


def _died(box: Sandbox, limits: Limits) -> RuleFailed:
    if box.timed_out:
        return RuleFailed(TrialStatus.TIMEOUT, "timeout", f"no answer within {limits.wall_s:g} s; process killed")
    sig = box.exit_signal()
    if sig in SIGNAL_RULES:
        status, rule = SIGNAL_RULES[sig]
        return RuleFailed(status, rule, f"killed by {sig} (limits: {limits})")
    return RuleFailed(TrialStatus.CRASHED, "sandbox-error",
                      f"the sandboxed process ended without an answer ({sig or f'exit {box.proc.returncode}'})")


def _check_result(impl, request: VerifyRequest, check, answer, buffers, inputs, out, scratch: str) -> dict[str, Any]:
    if "error" in answer:
        raise _raised(answer, scratch)
    if answer.get("rejected_ops") or answer.get("blocked"):
        raise _raised(answer, scratch)
    wanted = "out" if answer.get("takes_out") else "new-tensor"
    if answer.get("returned") != wanted or len(buffers) != 1 + len(inputs):
        raise RuleFailed(TrialStatus.WRONG_RESULT, "output-not-returned",
                         f"the function returned {answer.get('returned', 'nothing')}: "
                         + CALLING_CONTRACT)
    got = _tensor(buffers[0], out)
    after = tuple(_tensor(b, t) for b, t in zip(buffers[1:], inputs))
    return judge(impl, request, check, inputs, after, got)


def _load_message(request: VerifyRequest, box: Sandbox, role: str) -> dict[str, Any]:
    return {"op": "load", "role": role, "source": request.source, "function": request.function,
            "kernel_kwargs": request.kernel_kwargs, "device": request.device, "scratch": str(box.scratch),
            "tool_dirs": list(tool_dirs(request.device))}


def _loaded(box: Sandbox, limits: Limits) -> None:
    try:
        ready, _ = box.receive()
    except frames.ChannelClosed:
        raise _died(box, limits) from None
    if "error" in ready:
        failed = _raised(ready, str(box.scratch))
        if failed.rule in ("raised", "compile"):
            failed = RuleFailed(TrialStatus.COMPILE_ERROR, "import", failed.message)
        raise failed


def _run_checks(request: VerifyRequest, impl, box: Sandbox, limits: Limits, done: list, launches: list) -> float:
    """Every check in the running child; returns the first check's time (compilation included)."""
    compile_s = 0.0
    for index, check in enumerate(request.checks):
        inputs = make_inputs(impl, check, request.reference_kwargs, "cpu")
        out = empty_output(impl, check, "cpu")
        t0 = time.perf_counter()
        try:
            answer, buffers = box.ask({"op": "check", "index": index, "inputs": [_spec(t) for t in inputs],
                                       "output": _spec(out)}, [_raw(t) for t in inputs])
        except frames.ChannelClosed:
            raise _died(box, limits) from None
        compile_s = compile_s or time.perf_counter() - t0
        launches += answer.get("launches", [])
        done.append(_check_result(impl, request, check, answer, buffers, inputs, out, str(box.scratch)))
    return compile_s


def _check_lowering(request: VerifyRequest, box: Sandbox, limits: Limits, launches: list) -> None:
    """Every launch the checks made, compiled for a GPU in the second child; then the numeric contract."""
    _loaded(box, limits)
    try:
        answer, _ = box.ask({"op": "lower", "launches": launches})
    except frames.ChannelClosed:
        raise _died(box, limits) from None
    for entry in answer.get("lowered", []):
        if "error" in entry:
            raise RuleFailed(TrialStatus.COMPILE_ERROR, "gpu-lowering",
                             redact(f"kernel {entry['kernel']} runs under the interpreter but does not compile for "
                                    f"a GPU (sm_90): {entry['error']}", scratch=str(box.scratch)))
        check_contract(str(entry["kernel"]), [str(d) for d in entry.get("dots", [])],
                       dtype=request.checks[0].dtype, accumulator=request.accumulator, allow_tf32=request.allow_tf32)


TIMED_CHECKS = 3  # timed repetitions whose output is checked, drawn at random


def _timed(request: VerifyRequest, impl, box: Sandbox, limits: Limits) -> dict[str, Any]:
    """Time the candidate in its sandbox; the outputs of random timed repetitions are judged here too."""
    import random
    import statistics

    from tuneforge.evaluators.verify.plan import Check
    from tuneforge.evaluators.verify.timing import gpu_clocks, gpu_lock

    timing = request.timing
    assert timing is not None
    rng = random.SystemRandom()
    check = Check(dims=timing.dims, dtype=timing.dtype, seed=rng.randrange(2**31), distribution="normal")
    inputs = make_inputs(impl, check, request.reference_kwargs, "cpu")
    out = empty_output(impl, check, "cpu")
    reps = 50
    capture = sorted(rng.sample(range(reps), TIMED_CHECKS))
    with gpu_lock(timing.gpu_index):
        try:
            answer, buffers = box.ask({"op": "time", "inputs": [_spec(t) for t in inputs], "output": _spec(out),
                                       "copies": 3, "warmup": 3, "reps": reps, "capture": capture,
                                       "flush_bytes": timing.flush_bytes}, [_raw(t) for t in inputs])
        except frames.ChannelClosed:
            raise _died(box, limits) from None
        clocks = gpu_clocks(timing.gpu_index)
    if "error" in answer or answer.get("rejected_ops") or answer.get("blocked"):
        raise _raised(answer, str(box.scratch))
    if len(buffers) != len(capture):
        raise RuleFailed(TrialStatus.WRONG_RESULT, "timed-output", "the timed runs' outputs did not come back")
    device = "cuda" if torch.cuda.is_available() else "cpu"
    on_device = tuple(t.to(device) for t in inputs)
    for rep, data in zip(capture, buffers):
        try:
            judge(impl, request, check, on_device, on_device, _tensor(data, out).to(device))
        except RuleFailed as failed:
            raise RuleFailed(failed.status, "timed-output",
                             f"timed repetition {rep} of {reps} was wrong: {failed.rule}: {failed.message}") from None
    samples = sorted(float(x) for x in answer.get("samples", []))
    if not samples:
        raise RuleFailed(TrialStatus.CRASHED, "timed-output", "no timing came back")
    return {"time_ms": statistics.median(samples), "time_min_ms": samples[0], "time_max_ms": samples[-1],
            "time_iqr_ms": samples[(3 * len(samples)) // 4] - samples[len(samples) // 4], "reps": len(samples),
            "device_name": str(answer.get("device_name", "")), **clocks}


def _started(request: VerifyRequest, limits: Limits, role: str) -> Sandbox:
    """A sandbox with the candidate's load message sent (it imports while the caller goes on)."""
    try:
        box = Sandbox(request.device if role == "run" else "cpu", limits, interpret=None if role == "run" else False)
    except OSError as exc:
        raise SandboxUnavailable(f"could not start the sandbox: {exc}") from exc
    try:
        box.send(_load_message(request, box, role))
    except frames.ChannelClosed:
        pass  # the child is already gone: receiving its answer reports why
    return box


def verify_in_sandbox(request: VerifyRequest, limits: Limits, impl: Any = None) -> Verdict:
    """Run ``request.source`` in a sandbox on each check and judge the results here.

    ``impl`` gives the input shapes and the reference (default: the trusted module ``request.impl_module``;
    a submitted bundle brings one whose reference runs sandboxed too). On cpu a second sandbox compiles
    the launched kernels for a GPU once the checks have passed.
    """
    impl = impl or load_impl(request.impl_module)
    started = time.perf_counter()
    done: list[dict[str, Any]] = []
    launches: list[dict[str, Any]] = []
    compile_s = 0.0
    with ExitStack() as stack:
        try:
            box = stack.enter_context(_started(request, limits, "run"))
            _loaded(box, limits)
            compile_s = _run_checks(request, impl, box, limits, done, launches)
            if request.device == "cpu":
                _check_lowering(request, stack.enter_context(_started(request, limits, "lower")), limits, launches)
            timing = _timed(request, impl, box, limits) if request.timing is not None else None
        except SandboxUnavailable as exc:
            return Verdict.fail(TrialStatus.CRASHED, "sandbox-unavailable", str(exc))
        except RuleFailed as failed:
            return Verdict.fail(failed.status, failed.rule, failed.message, checks=done, compile_s=compile_s,
                                verify_s=time.perf_counter() - started)
    return Verdict(status=str(TrialStatus.OK), checks=done, compile_s=compile_s,
                   verify_s=time.perf_counter() - started, timing=timing)


def _raw(t: torch.Tensor) -> bytes:
    return t.contiguous().view(-1).view(torch.uint8).numpy().tobytes()
