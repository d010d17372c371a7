"""What a stored autotune result is keyed by, computed the same way wherever it is looked up.

A lookup key is (kernel source hash, key arguments bucketed, device, Triton version). Light: no
torch or triton imports, so the server and the import commands share it with the runtime.
"""

from __future__ import annotations

import hashlib
import inspect
import textwrap
from dataclasses import asdict, dataclass
from typing import Any

INTERPRETER_DEVICE = "Triton interpreter (CPU)"


@dataclass(frozen=True)
class LookupKey:
    kernel: str  # sha256 of the @triton.jit function's source, decorators dropped
    bucket: str  # "M=4096,N=1024,dtypes=float16,float16"
    device: str  # "NVIDIA H100 80GB HBM3 (sm_90)" or the interpreter
    triton: str  # Triton's version

    def to_dict(self) -> dict[str, str]:
        return asdict(self)

    @property
    def text(self) -> str:
        """One string per key (the local cache's entry name)."""
        return f"{self.bucket}|{self.device}|triton {self.triton}"


def source_of(fn: Any) -> str:
    """The kernel's source text: a JITFunction's ``src``, else the Python function's, from ``def`` on."""
    while not callable(getattr(fn, "__code__", None)) and hasattr(fn, "fn") and not isinstance(
            getattr(fn, "src", None), str):
        fn = fn.fn
    text = getattr(fn, "src", None)
    if not isinstance(text, str):
        text = textwrap.dedent(inspect.getsource(fn))
    lines = text.splitlines()
    start = next((i for i, line in enumerate(lines) if line.lstrip().startswith("def ")), 0)
    return "\n".join(lines[start:]).strip() + "\n"


def kernel_hash(fn: Any) -> str:
    return hashlib.sha256(source_of(fn).encode()).hexdigest()


def bucket_value(value: Any) -> str:
    """Integers share a bucket up to the next power of two; everything else is taken as it prints."""
    if isinstance(value, bool) or not isinstance(value, int):
        return str(value)
    return str(value if value <= 0 else 1 << (value - 1).bit_length())


def bucket_of(key_values: dict[str, Any], dtypes: list[str]) -> str:
    parts = [f"{name}={bucket_value(value)}" for name, value in key_values.items()]
    if dtypes:
        parts.append("dtypes=" + ",".join(dtypes))
    return ",".join(parts)
