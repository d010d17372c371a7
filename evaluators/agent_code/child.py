"""The sandboxed child: it runs the candidate and hands back raw bytes; it judges nothing.

It holds no reference, no originals and no verdict: the trusted parent sends inputs, this
process calls the candidate on them and sends back the output and the inputs as they are
afterwards. A candidate that patches, crashes or lies here can only make its own answer
wrong or missing.

Order matters: enter a user namespace of its own while single-threaded, read the first
message, import torch and triton, install the seccomp filter, the audit-hook guard and the
torch dispatch policy, and only then load the candidate.
"""

from __future__ import annotations

import math  # noqa: F401 - extension modules candidates import must be loaded before the filter
import os
import sys
import time
import traceback
from typing import Any

from tuneforge.evaluators.agent_code import frames

MAX_MESSAGE_BYTES = 1 << 31
CLONE_NEWUSER = 0x10000000


def _error(exc: BaseException) -> dict[str, Any]:
    return {"error": "".join(traceback.format_exception_only(exc)).strip()[-2000:], "error_type": type(exc).__name__,
            "error_types": [cls.__name__ for cls in type(exc).__mro__]}


class Runner:
    """The candidate function and what it needs to be called like the target's wrapper."""

    def __init__(self, load: dict[str, Any]) -> None:
        import inspect

        import torch

        from tuneforge.evaluators.agent_code import guard
        from tuneforge.evaluators.agent_code.torch_policy import HostCodePolicy
        from tuneforge.evaluators.agent_code.module_loading import function_of, load_source

        self.torch, self.device = torch, load["device"]
        # A bundle's reference defines correctness with torch's own compute; kernels may only launch.
        self.policy = AllowAll() if load.get("role") == "reference" else HostCodePolicy()
        with self.policy:
            self.module = module = load_source(load["source"], directory=load["scratch"])
            self.fn = function_of(module, load["function"])
        self.autotuners = [v for v in vars(module).values() if type(v).__name__ == "Autotuner"]
        try:
            params = inspect.signature(self.fn).parameters
        except (TypeError, ValueError):
            params = {}
        var_kw = any(p.kind is p.VAR_KEYWORD for p in params.values())
        self.takes_out = "out" in params or var_kw
        self.kwargs = {k: v for k, v in load["kernel_kwargs"].items() if var_kw or k in params}
        self.guard = guard
        self.recorder, self.reported = None, 0
        if load.get("role") == "run" and self.device == "cpu":
            from tuneforge.evaluators.agent_code.lowering import LaunchRecorder

            self.recorder = LaunchRecorder()
            self.recorder.install()

    def lower(self, launches: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Compile each launch for a GPU target; the compiler's message when it cannot."""
        from tuneforge.evaluators.agent_code.lowering import dot_lines, jit_function, lower

        kernels = {k.fn.__name__: k for k in map(jit_function, vars(self.module).values()) if k is not None}
        results = []
        for launch in launches:
            entry: dict[str, Any] = {"kernel": launch["kernel"]}
            try:
                if "error" in launch:
                    raise TypeError(launch["error"])
                if launch["kernel"] not in kernels:
                    raise LookupError(f"no @triton.jit kernel named {launch['kernel']} at module level")
                entry["dots"] = dot_lines(lower(kernels[launch["kernel"]], launch))
            except Exception as exc:  # noqa: BLE001 - the compiler's message is the result
                entry["error"] = "".join(traceback.format_exception_only(exc)).strip()[-2000:]
            results.append(entry)
        return results

    def tensor(self, spec: dict[str, Any], data: bytes):
        torch = self.torch
        dtype = getattr(torch, spec["dtype"])
        t = torch.frombuffer(bytearray(data), dtype=dtype) if data else torch.empty(0, dtype=dtype)
        return t.reshape(spec["shape"]).to(self.device)

    def run_check(self, header: dict[str, Any], buffers: list[bytes]) -> tuple[dict[str, Any], list[bytes]]:
        torch = self.torch
        inputs = [self.tensor(spec, data) for spec, data in zip(header["inputs"], buffers)]
        spec = header["output"]
        out = torch.full(spec["shape"], float("nan"), dtype=getattr(torch, spec["dtype"]), device=self.device)
        _choose_autotune_config(self.autotuners, header["index"])
        answer: dict[str, Any] = {}
        start = time.perf_counter()
        try:
            with self.policy:
                returned = self.fn(*inputs, out=out, **self.kwargs) if self.takes_out else self.fn(*inputs,
                                                                                                   **self.kwargs)
            if self.device == "cuda":
                torch.cuda.synchronize()
        except BaseException as exc:  # noqa: BLE001 - the parent decides what it means
            answer.update(_error(exc))
            returned = None
        answer["seconds"] = time.perf_counter() - start
        answer["launches"] = self.recorder.launches[self.reported:] if self.recorder else []
        self.reported = len(self.recorder.launches) if self.recorder else 0
        answer["rejected_ops"] = list(self.policy.rejected)
        answer["blocked"] = self.guard.attempts()
        if "error" in answer:
            return answer, []
        answer["returned"] = _describe(returned, out, torch)
        answer["takes_out"] = self.takes_out
        result = returned if answer["returned"] == "new-tensor" else out
        if result.shape != tuple(spec["shape"]) or str(result.dtype) != f"torch.{spec['dtype']}":
            answer["returned"] = "wrong-shape"
            return answer, []
        return answer, [_bytes(result)] + [_bytes(t) for t in inputs]


    def run_reference(self, header: dict[str, Any], buffers: list[bytes]) -> tuple[dict[str, Any], list[bytes]]:
        """The expected output for these (float64) inputs, sent back as float64 bytes."""
        torch = self.torch
        inputs = [self.tensor(spec, data) for spec, data in zip(header["inputs"], buffers)]
        answer: dict[str, Any] = {}
        try:
            returned = self.fn(*inputs)
        except BaseException as exc:  # noqa: BLE001 - the parent decides what it means
            answer.update(_error(exc))
            returned = None
        answer["blocked"] = self.guard.attempts()
        if "error" in answer:
            return answer, []
        if not isinstance(returned, torch.Tensor):
            answer["returned"] = type(returned).__name__
            return answer, []
        answer["returned"], answer["shape"] = "new-tensor", list(returned.shape)
        return answer, [_bytes(returned.detach().to(torch.float64))]

    def time_runs(self, header: dict[str, Any], buffers: list[bytes]) -> tuple[dict[str, Any], list[bytes]]:
        """CUDA-event times of repeated runs; the output of the repetitions the parent chose is sent back
        (poisoned before, copied after, both outside the timed window)."""
        torch = self.torch
        inputs = [self.tensor(spec, data) for spec, data in zip(header["inputs"], buffers)]
        sets = [inputs] + [[t.clone() for t in inputs] for _ in range(header["copies"] - 1)]
        spec = header["output"]
        out = torch.full(spec["shape"], float("nan"), dtype=getattr(torch, spec["dtype"]), device=self.device)
        flush = torch.empty(header["flush_bytes"] // 4, dtype=torch.int32, device=self.device)
        captured, samples = [], []
        capture = set(header["capture"])

        def run(i: int):
            with self.policy:
                return (self.fn(*sets[i % len(sets)], out=out, **self.kwargs) if self.takes_out
                        else self.fn(*sets[i % len(sets)], **self.kwargs))

        try:
            for i in range(header["warmup"]):
                run(i)
            torch.cuda.synchronize()
            for i in range(header["reps"]):
                if i in capture:
                    out.fill_(float("nan"))
                flush.zero_()
                begin, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
                begin.record()
                returned = run(i)
                torch.cuda.synchronize()
                end.record()
                end.synchronize()
                samples.append(begin.elapsed_time(end))
                if i in capture:
                    captured.append(_bytes(returned if not self.takes_out and isinstance(returned, torch.Tensor)
                                           else out))
        except BaseException as exc:  # noqa: BLE001
            return {**_error(exc), "rejected_ops": list(self.policy.rejected), "blocked": self.guard.attempts()}, []
        return {"samples": samples, "device_name": torch.cuda.get_device_name(), "rejected_ops":
                list(self.policy.rejected), "blocked": self.guard.attempts()}, captured


class AllowAll:
    """No dispatch policy: the reference computes with torch."""

    rejected: list[str] = []

    def __enter__(self) -> AllowAll:
        return self

    def __exit__(self, *exc: object) -> None:
        return None


def _describe(returned: Any, out: Any, torch: Any) -> str:
    if not isinstance(returned, torch.Tensor):
        return "not-a-tensor"
    if returned.data_ptr() == out.data_ptr() and returned.shape == out.shape:
        return "out"
    return "new-tensor"


def _bytes(t: Any) -> bytes:
    import torch

    return t.detach().contiguous().cpu().view(-1).view(dtype=torch.uint8).numpy().tobytes()


def _choose_autotune_config(autotuners: list, index: int) -> None:
    """Under the interpreter @triton.autotune cannot time: each check runs the next config instead."""
    for tuner in autotuners:
        chosen = tuner.configs[index % len(tuner.configs)]
        tuner.cache.clear()
        tuner._bench = lambda *args, config, _c=chosen, **kwargs: [0.0 if config is _c else 1.0]


def _own_user_namespace() -> bool:
    """Enter a user namespace of this process's own (no uid mapped into it), while single-threaded.

    Best effort: the child is already an unprivileged user in its own pid, network, IPC and mount
    namespaces; hosts that forbid unprivileged user namespaces only lose this extra layer.
    """
    import ctypes

    return ctypes.CDLL(None, use_errno=True).unshare(CLONE_NEWUSER) == 0


def main() -> None:
    _own_user_namespace()
    channel_in = os.fdopen(os.dup(sys.stdin.fileno()), "rb")
    channel_out = os.fdopen(os.dup(sys.stdout.fileno()), "wb")
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, sys.stdin.fileno())
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())  # the candidate's prints go to stderr
    load, _ = frames.receive(channel_in, max_buffer_bytes=0)
    # Everything this process will map executable is loaded before the filter forbids it.
    import inspect  # noqa: F401
    import torch
    import triton  # noqa: F401
    import triton.language  # noqa: F401

    from tuneforge.evaluators.agent_code import guard, seccomp, torch_policy  # noqa: F401
    from tuneforge.evaluators.agent_code import module_loading  # noqa: F401

    if load["device"] == "cuda":
        torch.cuda.init()
    with torch_policy.HostCodePolicy():  # its first use imports more of torch
        torch.empty(1).fill_(0.0)
    if load["role"] == "lower":
        from tuneforge.evaluators.agent_code import lowering
        from triton.compiler import code_generator  # noqa: F401
        from triton.backends.compiler import GPUTarget
        from triton.compiler.compiler import make_backend

        backend = make_backend(GPUTarget(*lowering.TARGET))  # loads the compiler's native parts
        backend.get_codegen_implementation(backend.parse_options({}))
        backend.get_module_map()
    elif load["device"] == "cpu":
        from tuneforge.evaluators.agent_code import lowering  # noqa: F401
        from triton.runtime import interpreter  # noqa: F401
    seccomp.install(no_exec_memory=load["device"] == "cpu")  # Triton runs ptxas on a GPU host
    guard.install(load["scratch"], tuple(load.get("tool_dirs", ())))
    try:
        runner = Runner(load)
    except BaseException as exc:  # noqa: BLE001
        frames.send(channel_out, {**_error(exc), "blocked": guard.attempts()})
        return
    frames.send(channel_out, {"ready": True, "takes_out": runner.takes_out, "blocked": guard.attempts(),
                              "rejected_ops": list(runner.policy.rejected)})
    while True:
        try:
            header, buffers = frames.receive(channel_in, max_buffer_bytes=MAX_MESSAGE_BYTES)
        except frames.ChannelClosed:
            return
        if header.get("op") == "check":
            answer, data = runner.run_check(header, buffers)
            frames.send(channel_out, answer, data)
        elif header.get("op") == "reference":
            answer, data = runner.run_reference(header, buffers)
            frames.send(channel_out, answer, data)
        elif header.get("op") == "time":
            answer, data = runner.time_runs(header, buffers)
            frames.send(channel_out, answer, data)
        elif header.get("op") == "lower":
            frames.send(channel_out, {"lowered": runner.lower(header["launches"]), "blocked": guard.attempts()})
        else:
            return


if __name__ == "__main__":
    main()
