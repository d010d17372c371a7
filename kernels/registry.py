"""Finds every target: the ones tuneforge ships and the ones other installed packages bring.

Shipped: each subpackage of ``kernels`` that exposes ``TARGETS``. Installed: each entry point of
the group ``tuneforge.targets``; it may name a module exposing ``TARGETS``, a list of targets, a
target, or a ``Target`` subclass that takes no arguments::

    [project.entry-points."tuneforge.targets"]
    scale_rows = "my_kernels.scale_rows"

``TARGET@module:kernel`` is TARGET tuned over the config list of that ``triton.autotune`` kernel
(``kernels/_from_autotune.py``). A user's target goes through the same contract as a shipped one (verification, devices,
strategies, leaderboard, export). A package whose entry point fails to load does not take the
others down: its error is kept and shown when someone asks for a target that is missing.
"""

from __future__ import annotations

import importlib
import pkgutil
import re
from dataclasses import dataclass
from functools import lru_cache
from importlib.metadata import EntryPoint, entry_points
from typing import Any

import tuneforge.kernels as kernels
from tuneforge.core.errors import UserInputError
from tuneforge.kernels._base import Target

ENTRY_POINT_GROUP = "tuneforge.targets"
TARGET_NAME = re.compile(r"[a-z][a-z0-9_]{0,63}")


@dataclass(frozen=True)
class TargetSource:
    """Where a target came from: ``tuneforge`` for a shipped one, else the installing distribution."""

    distribution: str
    entry_point: str | None = None


@dataclass(frozen=True)
class Discovery:
    targets: dict[str, Target]
    sources: dict[str, TargetSource]
    errors: dict[str, str]  # entry point -> why it did not load


def _targets_of(obj: Any) -> list[Target]:
    """What an entry point's object means: a module with TARGETS, a list, one target, or a target class."""
    if isinstance(obj, Target):
        return [obj]
    if isinstance(obj, type) and issubclass(obj, Target):
        return [obj()]
    listed = getattr(obj, "TARGETS", obj)
    if isinstance(listed, (list, tuple)) and all(isinstance(t, Target) for t in listed):
        return list(listed)
    raise TypeError(f"expected a Target, a Target subclass, a list of targets or a module with TARGETS; "
                    f"got {type(obj).__name__}")


def _check_name(target: Target, origin: str) -> None:
    name = getattr(target, "name", None)
    if not isinstance(name, str) or not TARGET_NAME.fullmatch(name):
        raise TypeError(f"{origin}: a target's name must be lowercase letters, digits and _ (starting with a "
                        f"letter, at most 64 characters), got {name!r}")


def _shipped() -> dict[str, Target]:
    found: dict[str, Target] = {}
    for info in pkgutil.iter_modules(kernels.__path__):
        if info.name.startswith("_") or info.name == "registry":
            continue
        module = importlib.import_module(f"tuneforge.kernels.{info.name}")
        for target in getattr(module, "TARGETS", ()):
            if target.name in found:
                raise RuntimeError(f"two targets are named {target.name!r}")
            found[target.name] = target
    return found


def _distribution_of(ep: EntryPoint) -> str:
    dist = getattr(ep, "dist", None)
    return dist.name if dist is not None else "(unknown package)"


@lru_cache(maxsize=1)
def discover() -> Discovery:
    targets = _shipped()
    sources = {name: TargetSource("tuneforge") for name in targets}
    errors: dict[str, str] = {}
    for ep in sorted(entry_points(group=ENTRY_POINT_GROUP), key=lambda e: (e.name, e.value)):
        origin = f"entry point {ep.name!r} ({ep.value}) of package {_distribution_of(ep)!r}"
        try:
            loaded = _targets_of(ep.load())
            for target in loaded:
                _check_name(target, origin)
                if target.name in targets:
                    other = sources[target.name]
                    raise TypeError(f"it names target {target.name!r}, which {other.distribution!r} already "
                                    "provides; rename one of them")
        except Exception as exc:  # noqa: BLE001 - one broken package must not hide every other target
            errors[ep.name] = f"{origin} did not load: {type(exc).__name__}: {exc}"
            continue
        for target in loaded:
            targets[target.name] = target
            sources[target.name] = TargetSource(_distribution_of(ep), ep.name)
    return Discovery(dict(sorted(targets.items())), sources, errors)


def all_targets() -> dict[str, Target]:
    return dict(discover().targets)


def target_source(name: str) -> TargetSource:
    return discover().sources[get_target(name).name]


def get_target(name: str) -> Target:
    base, sep, autotuned = name.partition("@")
    if sep:
        return _with_autotune_space(base, autotuned)
    found = discover()
    if name not in found.targets:
        broken = "".join(f"; {message}" for message in found.errors.values())
        raise UserInputError(f"unknown target {name!r}; known targets: {', '.join(found.targets) or '(none)'} "
                             "(a replay device names its own target: omit TARGET or use the file's kernel name)"
                             + broken)
    return found.targets[name]


@lru_cache(maxsize=64)
def _with_autotune_space(base: str, autotuned: str) -> Target:
    from tuneforge.kernels._from_autotune import derived_target

    return derived_target(get_target(base), autotuned)


def clear_cache() -> None:
    """Forget what was found (after installing or removing a package in this process)."""
    discover.cache_clear()
    _with_autotune_space.cache_clear()
