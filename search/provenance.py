"""Versions recorded with every best config, read without importing the packages."""

from __future__ import annotations

import platform
from functools import lru_cache
from importlib.metadata import PackageNotFoundError, version


@lru_cache(maxsize=1)
def versions() -> dict[str, str]:
    found = {"python": platform.python_version()}
    for package in ("tuneforge", "torch", "triton", "optuna", "numpy"):
        try:
            found[package] = version(package)
        except PackageNotFoundError:
            pass
    return found
