"""Finds every target: each subpackage of ``kernels`` that exposes ``TARGETS``."""

from __future__ import annotations

import importlib
import pkgutil
from functools import lru_cache

import tuneforge.kernels as kernels
from tuneforge.core.errors import UserInputError
from tuneforge.kernels._base import Target


@lru_cache(maxsize=1)
def all_targets() -> dict[str, Target]:
    found: dict[str, Target] = {}
    for info in pkgutil.iter_modules(kernels.__path__):
        if info.name.startswith("_") or info.name == "registry":
            continue
        module = importlib.import_module(f"tuneforge.kernels.{info.name}")
        for target in getattr(module, "TARGETS", ()):
            if target.name in found:
                raise RuntimeError(f"two targets are named {target.name!r}")
            found[target.name] = target
    return dict(sorted(found.items()))


def get_target(name: str) -> Target:
    targets = all_targets()
    if name not in targets:
        raise UserInputError(f"unknown target {name!r}; known targets: {', '.join(targets) or '(none)'} "
                             "(a replay device names its own target: omit TARGET or use the file's kernel name)")
    return targets[name]
