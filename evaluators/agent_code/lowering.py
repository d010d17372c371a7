"""Lowering each launched kernel for a real GPU (sm_90) on a host without one.

The Triton interpreter runs any Python inside a ``@triton.jit`` body; a GPU runs only what
Triton can compile. So on cpu the interpreting child records every distinct launch (kernel,
argument types, constexpr values, warps and stages), and a second child, where Triton is not
in interpreter mode, compiles each one to Triton's IR for an sm_90 target (TTIR, then TTGIR:
the layouts a Hopper GPU would use). The ``tt.dot`` lines of the TTIR go to the parent, which
applies the target's numeric contract to them.

The two modes cannot share a process: under the interpreter Triton's own library functions
are interpreted objects that its compiler cannot call.
"""

from __future__ import annotations

import inspect
import re
from typing import Any

LAUNCH_OPTIONS = ("num_warps", "num_stages")
IGNORED_OPTIONS = {"num_ctas", "maxnreg", "enable_fp_fusion", "launch_cooperative_grid", "launch_pdl"}
POINTER_TYPES = {"float32": "*fp32", "float16": "*fp16", "bfloat16": "*bf16", "float64": "*fp64", "int8": "*i8",
                 "uint8": "*u8", "int16": "*i16", "int32": "*i32", "int64": "*i64", "bool": "*i1"}
TARGET = ("cuda", 90, 32)
_DOT = re.compile(r"tt\.dot(?:_scaled)?\b.*")


class Unlowerable(Exception):
    """A launch that no GPU compiler could take (e.g. a tensor as a constexpr)."""


def _constexpr_names(fn: Any) -> set[str]:
    return {p.name for p in inspect.signature(fn).parameters.values() if "constexpr" in str(p.annotation)}


def _encode(value: Any, name: str) -> Any:
    import torch
    import triton.language as tl

    if isinstance(value, torch.Tensor):
        raise Unlowerable(f"argument {name} is a tensor passed as a constexpr")
    if isinstance(value, tl.dtype):
        return {"tl_dtype": value.name}
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    raise Unlowerable(f"constexpr {name} holds a {type(value).__name__}, which a GPU kernel cannot take")


def _arg_type(value: Any, name: str) -> str:
    import torch

    if isinstance(value, torch.Tensor):
        return POINTER_TYPES.get(str(value.dtype).removeprefix("torch."), "*i8")
    if isinstance(value, bool):
        return "i1"
    if isinstance(value, int):
        return "i32" if -2**31 <= value < 2**31 else "i64"
    if isinstance(value, float):
        return "fp32"
    raise Unlowerable(f"argument {name} is a {type(value).__name__}, which a GPU kernel cannot take")


def describe_launch(fn: Any, arg_names: list[str], args: tuple, kwargs: dict[str, Any]) -> dict[str, Any]:
    """A launch as plain data: ``signature`` (name: type or "constexpr"), ``constexprs``, ``options``."""
    values = dict(zip(arg_names, args))
    values.update({k: v for k, v in kwargs.items() if k not in LAUNCH_OPTIONS and k not in IGNORED_OPTIONS})
    constexpr = _constexpr_names(fn)
    described: dict[str, Any] = {"kernel": fn.__name__, "signature": {}, "constexprs": {},
                                 "options": {k: kwargs[k] for k in LAUNCH_OPTIONS if isinstance(kwargs.get(k), int)}}
    for name, param in inspect.signature(fn).parameters.items():
        value = values.get(name, param.default)
        if value is inspect.Parameter.empty:
            raise Unlowerable(f"launched without argument {name}")
        if name in constexpr or value is None:
            described["signature"][name] = "constexpr"
            described["constexprs"][name] = _encode(value, name)
        else:
            described["signature"][name] = _arg_type(value, name)
    return described


def lower(kernel: Any, launch: dict[str, Any]) -> str:
    """The TTIR of ``kernel`` (a JITFunction) for ``launch``, compiled for sm_90 through TTGIR."""
    import triton.language as tl
    from triton._C.libtriton import ir
    from triton.backends.compiler import GPUTarget
    from triton.compiler.compiler import ASTSource, make_backend

    constexprs = {k: getattr(tl, v["tl_dtype"]) if isinstance(v, dict) else v for k, v in launch["constexprs"].items()}
    target = GPUTarget(*TARGET)
    backend = make_backend(target)
    src = ASTSource(fn=kernel, signature=launch["signature"], constexprs=constexprs)
    options = backend.parse_options({**launch["options"], **src.parse_options()})
    context = ir.context()
    ir.load_dialects(context)
    backend.load_dialects(context)
    module = src.make_ir(target, options, backend.get_codegen_implementation(options), backend.get_module_map(),
                         context)
    stages: dict[str, Any] = {}
    backend.add_stages(stages, options, src.language)
    metadata = {"target": target, **options.__dict__}
    ttir = stages["ttir"](module, metadata)
    text = str(ttir)
    stages["ttgir"](ttir, metadata)  # the layouts for the target: catches what only a GPU rejects
    return text


def dot_lines(ttir: str) -> list[str]:
    return [m.group(0)[:400] for m in _DOT.finditer(ttir)]


def jit_function(obj: Any) -> Any:
    """The JITFunction under @triton.autotune / @triton.heuristics wrappers, or None."""
    from triton.runtime.jit import JITFunction

    for _ in range(8):
        if isinstance(obj, JITFunction):
            return obj
        obj = getattr(obj, "fn", None)
    return None


class LaunchRecorder:
    """Wraps the interpreter's launch to note each distinct launch once, then runs it."""

    def __init__(self) -> None:
        self.launches: list[dict[str, Any]] = []
        self._seen: set[str] = set()

    def install(self) -> None:
        from triton.runtime.interpreter import InterpretedFunction

        original = InterpretedFunction.run
        recorder = self

        def run(self, *args, grid, warmup, **kwargs):
            recorder.observe(self, args, kwargs)
            return original(self, *args, grid=grid, warmup=warmup, **kwargs)

        InterpretedFunction.run = run

    def observe(self, kernel: Any, args: tuple, kwargs: dict[str, Any]) -> None:
        try:
            launch = describe_launch(kernel.fn, kernel.arg_names, args, kwargs)
        except Unlowerable as exc:
            launch = {"kernel": kernel.fn.__name__, "error": str(exc)}
        key = repr(sorted(launch.items()))
        if key not in self._seen:
            self._seen.add(key)
            self.launches.append(launch)
