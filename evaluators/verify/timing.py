"""GPU timing in the harness: CUDA events around each run, L2 flushed between runs, one timing per GPU at a time.

The events, the synchronisation and the statistics are the harness's; references to them are
taken when this module is imported (before any candidate module) and checked again before
timing, so a candidate that patches the timer is caught. Every run ends with a device-wide
synchronize before its end event, so work hidden on side streams is inside the measured time.
Inputs rotate between independent copies so a cache keyed on tensor addresses gains nothing.
"""

from __future__ import annotations

import statistics
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from types import ModuleType
from typing import Any

import torch

from tuneforge.core.file_lock import file_lock
from tuneforge.core.types import TrialStatus
from tuneforge.evaluators.verify.inputs import empty_output, make_inputs
from tuneforge.evaluators.verify.plan import Check, RuleFailed, VerifyRequest

_TRUSTED = {
    "Event": torch.cuda.Event,
    "Event.record": torch.cuda.Event.record,
    "Event.elapsed_time": torch.cuda.Event.elapsed_time,
    "synchronize": torch.cuda.synchronize,
    "perf_counter": time.perf_counter,
    "median": statistics.median,
}
_INPUT_COPIES = 3


def _current() -> dict[str, Any]:
    return {"Event": torch.cuda.Event, "Event.record": torch.cuda.Event.record,
            "Event.elapsed_time": torch.cuda.Event.elapsed_time, "synchronize": torch.cuda.synchronize,
            "perf_counter": time.perf_counter, "median": statistics.median}


def check_timer_untouched() -> None:
    patched = [name for name, fn in _current().items() if fn is not _TRUSTED[name]]
    if patched:
        raise RuleFailed(TrialStatus.WRONG_RESULT, "timer-tampering", f"timing functions were replaced: {patched}")


@contextmanager
def gpu_lock(index: int) -> Iterator[None]:
    """One timing at a time per GPU, across every process on this machine."""
    with file_lock(Path(tempfile.gettempdir()) / f"tuneforge-gpu{index}.lock"):
        yield


def gpu_clocks(index: int) -> dict[str, float]:
    """Current SM and memory clocks (MHz) from nvidia-smi; empty when it is unavailable."""
    try:
        text = subprocess.run(["nvidia-smi", f"--id={index}", "--query-gpu=clocks.sm,clocks.mem",
                               "--format=csv,noheader,nounits"], capture_output=True, text=True,
                              timeout=10, check=True).stdout
        sm, mem = (float(v) for v in text.strip().splitlines()[0].split(","))
        return {"sm_clock_mhz": sm, "mem_clock_mhz": mem}
    except (OSError, subprocess.SubprocessError, ValueError, IndexError):
        return {}


def _runner(fn: Callable, impl: ModuleType, request: VerifyRequest) -> Callable:
    if request.time_reference:
        return lambda *inputs, out: out.copy_(impl.reference(*inputs, **request.reference_kwargs))
    return lambda *inputs, out: fn(*inputs, out=out, **request.kernel_kwargs)


def time_request(fn: Callable, impl: ModuleType, request: VerifyRequest) -> dict[str, Any]:
    timing = request.timing
    assert timing is not None
    device = f"cuda:{timing.gpu_index}"
    torch.cuda.set_device(timing.gpu_index)
    check = Check(dims=timing.dims, dtype=timing.dtype, seed=12345, distribution="normal")
    free, _ = torch.cuda.mem_get_info()
    sets = [make_inputs(impl, check, request.reference_kwargs, device)]
    set_bytes = sum(t.numel() * t.element_size() for t in sets[0])
    while len(sets) < _INPUT_COPIES and set_bytes * 3 < free - 4 * set_bytes - timing.flush_bytes:
        sets.append(tuple(t.clone() for t in sets[0]))
        free -= set_bytes
    out = empty_output(impl, check, device)
    flush = torch.empty(timing.flush_bytes // 4, dtype=torch.int32, device=device)
    run = _runner(fn, impl, request)

    with gpu_lock(timing.gpu_index):
        check_timer_untouched()
        start_wall = time.perf_counter()
        warmups = 0
        while warmups < 3 or (time.perf_counter() - start_wall) * 1e3 < timing.warmup_ms:
            run(*sets[warmups % len(sets)], out=out)
            torch.cuda.synchronize()
            warmups += 1
        per_run_ms = (time.perf_counter() - start_wall) * 1e3 / warmups
        reps = int(min(1000, max(10, timing.rep_ms / max(per_run_ms, 1e-3))))
        samples = []
        for i in range(reps):
            flush.zero_()
            begin, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
            begin.record()
            run(*sets[i % len(sets)], out=out)
            torch.cuda.synchronize()
            end.record()
            end.synchronize()
            samples.append(begin.elapsed_time(end))
        check_timer_untouched()
        clocks = gpu_clocks(timing.gpu_index)
    samples.sort()
    return {"time_ms": statistics.median(samples), "time_min_ms": samples[0], "time_max_ms": samples[-1],
            "time_iqr_ms": samples[(3 * len(samples)) // 4] - samples[len(samples) // 4], "reps": len(samples),
            "device_name": torch.cuda.get_device_name(timing.gpu_index), **clocks}
