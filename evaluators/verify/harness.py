"""The verification rules, applied to one function in this process (the worker's side).

For every check: fresh random inputs, a NaN-poisoned output buffer, the candidate run
first, then: it wrote into the buffer it was given, it left its inputs untouched, it wrote
every element, and each element is within the dtype's tolerance of a float64 reference.
The first rule that fails decides the verdict.
"""

from __future__ import annotations

import time
import traceback
from collections.abc import Callable
from types import ModuleType
from typing import Any

import torch

from tuneforge.core.types import TrialStatus
from tuneforge.evaluators.verify.inputs import empty_output, make_inputs
from tuneforge.evaluators.verify.loading import function_of, load_impl, load_source
from tuneforge.evaluators.verify.plan import Check, RuleFailed, Verdict, VerifyRequest
from tuneforge.evaluators.verify.timing import time_request


def classify_exception(exc: BaseException) -> tuple[TrialStatus, str]:
    """Map what a failing launch raised to a trial status and rule name."""
    names = {cls.__name__ for cls in type(exc).__mro__}
    if "OutOfResources" in names:
        return TrialStatus.INVALID, "out-of-resources"
    if names & {"CompilationError", "InterpreterError", "SyntaxError", "ImportError", "LookupError"}:
        return TrialStatus.COMPILE_ERROR, "compile"
    if isinstance(exc, torch.OutOfMemoryError):
        return TrialStatus.INVALID, "out-of-memory"
    return TrialStatus.CRASHED, "raised"


def _sync(device: str) -> None:
    if device == "cuda":
        torch.cuda.synchronize()


def _check_once(fn: Callable, impl: ModuleType, request: VerifyRequest, check: Check, device: str) -> dict[str, Any]:
    inputs = make_inputs(impl, check, request.reference_kwargs, device)
    originals = tuple(t.clone() for t in inputs)
    out = empty_output(impl, check, device)
    try:
        returned = fn(*inputs, out=out, **request.kernel_kwargs)
        _sync(device)
    except Exception as exc:  # noqa: BLE001 - any failure of the candidate is a result
        status, rule = classify_exception(exc)
        raise RuleFailed(status, rule, "".join(traceback.format_exception_only(exc)).strip()[-2000:]) from exc
    if not (isinstance(returned, torch.Tensor) and returned.data_ptr() == out.data_ptr()
            and returned.shape == out.shape and returned.dtype == out.dtype):
        raise RuleFailed(TrialStatus.WRONG_RESULT, "output-not-returned",
                         "the function must write into the `out` tensor it is given and return it")
    return judge(impl, request, check, originals, inputs, out)


def judge(impl: ModuleType, request: VerifyRequest, check: Check, originals: tuple[torch.Tensor, ...],
          inputs_after: tuple[torch.Tensor, ...], out: torch.Tensor) -> dict[str, Any]:
    """The rules on one run's result: inputs untouched, every element written, within tolerance of
    a float64 reference computed from ``originals`` (the trusted copies). Raises RuleFailed."""
    changed = [i for i, (now, before) in enumerate(zip(inputs_after, originals)) if not torch.equal(now, before)]
    if changed:
        raise RuleFailed(TrialStatus.WRONG_RESULT, "inputs-modified", f"input(s) {changed} were modified")
    unwritten = int(torch.isnan(out).sum())
    if unwritten:
        raise RuleFailed(TrialStatus.WRONG_RESULT, "output-not-written",
                         f"{unwritten} of {out.numel()} output elements were never written (still NaN)")
    exact = tuple(t.double() if t.is_floating_point() else t for t in originals)
    ref = impl.reference(*exact, **request.reference_kwargs)
    got = out.double()
    if ref.shape != got.shape:  # broadcasting would compare the wrong elements
        raise RuleFailed(TrialStatus.CRASHED, "reference-output", f"the reference returned shape "
                         f"{tuple(ref.shape)}, the output is {tuple(got.shape)} at {check.dims}")
    err = (got - ref).abs()
    scale = float(ref.abs().max()) or 1.0
    bad = ~(err <= request.atol * scale + request.rtol * ref.abs())
    max_err = float(err.max()) / scale
    if bool(bad.any()):
        first = tuple(int(i) for i in bad.nonzero()[0])
        raise RuleFailed(TrialStatus.WRONG_RESULT, "mismatch",
                         f"{int(bad.sum())} of {bad.numel()} elements outside tolerance at {check.dims} "
                         f"({check.distribution} inputs): max error {max_err:.3g} x max|ref|, first at {first}: "
                         f"got {float(got[first]):.6g}, want {float(ref[first]):.6g} "
                         f"(rtol {request.rtol}, atol {request.atol} x max|ref|)")
    return {"dims": check.dims, "distribution": check.distribution, "max_err_rel": max_err}


def verify_callable(fn: Callable, impl: ModuleType, request: VerifyRequest) -> Verdict:
    """Apply every check of ``request`` to ``fn``; the first call's time is reported as compile time."""
    device = request.device
    start = time.perf_counter()
    compile_s = 0.0
    done: list[dict[str, Any]] = []
    try:
        for check in request.checks:
            t0 = time.perf_counter()
            done.append(_check_once(fn, impl, request, check, device))
            if not compile_s:
                compile_s = time.perf_counter() - t0
    except RuleFailed as failed:
        return Verdict.fail(failed.status, failed.rule, failed.message, checks=done, compile_s=compile_s,
                            verify_s=time.perf_counter() - start)
    return Verdict(status=str(TrialStatus.OK), checks=done, compile_s=compile_s,
                   verify_s=time.perf_counter() - start)


def load_function(request: VerifyRequest) -> tuple[Callable, ModuleType]:
    """(function under test, trusted implementation module). Raises for a candidate that does not import."""
    impl = load_impl(request.impl_module)
    module = impl if request.source is None else load_source(request.source)
    return function_of(module, request.function), impl


def run_request(request: VerifyRequest) -> Verdict:
    """Verify, then time when asked (cuda only). Never raises for a bad candidate."""
    if request.device == "cuda":
        if not torch.cuda.is_available():
            return Verdict.fail(TrialStatus.CRASHED, "no-gpu", "torch sees no CUDA GPU in the worker process "
                                "(CPU-only torch build, or CUDA_VISIBLE_DEVICES hides the GPUs)")
        torch.cuda.set_device(request.timing.gpu_index if request.timing else 0)
    try:
        fn, impl = load_function(request)
    except Exception as exc:  # noqa: BLE001
        return Verdict.fail(TrialStatus.COMPILE_ERROR, "import",
                            "".join(traceback.format_exception_only(exc)).strip()[-2000:])
    if request.time_reference:
        verdict = Verdict(status=str(TrialStatus.OK))
    else:
        verdict = verify_callable(fn, impl, request)
    if verdict.passed and request.timing is not None:
        try:
            verdict.timing = time_request(fn, impl, request)
        except RuleFailed as failed:
            return Verdict.fail(failed.status, failed.rule, failed.message, checks=verdict.checks,
                                compile_s=verdict.compile_s, verify_s=verdict.verify_s)
    return verdict
