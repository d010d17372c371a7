"""tuneforge: an autotuning service for compute kernels and the hardware designs they run on.

The repository's folders (``api``, ``core``, ``db``, ``search``, ``worker``, ``kernels``,
``agents``, ``evaluators``) are installed as subpackages of this one import name.

The public face, for kernel authors (docs/user-targets.md)::

    from tuneforge import autotune                      # a drop-in for triton.autotune
    from tuneforge import TritonTarget, Space, Param, Constraint, Problem   # your own target

Names load on first use, so ``import tuneforge`` pulls in neither torch nor triton.
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

_PUBLIC = {
    "Target": "tuneforge.kernels._base",
    "TritonTarget": "tuneforge.kernels._triton_common",
    "Tolerance": "tuneforge.kernels._triton_common",
    "GemmProfile": "tuneforge.kernels._triton_common",
    "StreamProfile": "tuneforge.kernels._triton_common",
    "Space": "tuneforge.core.space",
    "Param": "tuneforge.core.space",
    "Constraint": "tuneforge.core.space",
    "Problem": "tuneforge.core.types",
    "Objective": "tuneforge.core.types",
    "all_targets": "tuneforge.kernels.registry",
    "get_target": "tuneforge.kernels.registry",
    "autotune": "tuneforge.autotuner",
    "Autotuner": "tuneforge.autotuner",
}

__all__ = sorted(_PUBLIC)


def __getattr__(name: str) -> Any:
    if name not in _PUBLIC:
        raise AttributeError(f"module 'tuneforge' has no attribute {name!r}")
    value = getattr(importlib.import_module(_PUBLIC[name]), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_PUBLIC])
