"""Loading the function under test: the target's own implementation, or a candidate's module source."""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

_source_dir: Path | None = None


def load_impl(module_name: str) -> ModuleType:
    return importlib.import_module(module_name)


def load_source(source: str, directory: str | None = None) -> ModuleType:
    """Import module text from a real file (``@triton.jit`` reads its function's source from disk),
    written under ``directory`` (by default a private temporary directory of this process)."""
    global _source_dir
    if directory is None:
        _source_dir = _source_dir or Path(tempfile.mkdtemp(prefix="tuneforge-candidates-"))
    digest = hashlib.sha256(source.encode()).hexdigest()[:16]
    name = f"tuneforge_candidate_{digest}"
    if name in sys.modules:
        return sys.modules[name]
    path = Path(directory or _source_dir) / f"{name}.py"
    path.write_text(source)
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[name]
        raise
    return module


def function_of(module: ModuleType, name: str) -> Callable:
    fn = getattr(module, name, None)
    if not callable(fn):
        raise LookupError(f"the module defines no function {name!r}")
    return fn
