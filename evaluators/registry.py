"""Resolves device specs; finds every device class in ``evaluators/devices``."""

from __future__ import annotations

import importlib
import pkgutil
import threading
from collections import OrderedDict
from functools import lru_cache
from typing import Any

from tuneforge.core.errors import UserInputError
from tuneforge.core.settings import Settings
from tuneforge.evaluators import devices
from tuneforge.evaluators._base import Device
from tuneforge.kernels._base import Target

# Resolved devices, most recently used last; bounded (settings.device_cache_size) so that many
# spellings of a spec cannot grow the process. A spec that fails to resolve is never cached.
_instances: OrderedDict[tuple[str, str], Device] = OrderedDict()
_instances_lock = threading.Lock()
# One lock per spec being built: jobs starting together on one device (threads of a scheduler) build
# it once, the others wait for it instead of each loading the same replay file.
_building: dict[tuple[str, str], threading.Lock] = {}


@lru_cache(maxsize=1)
def device_classes() -> dict[str, list[type[Device]]]:
    """scheme -> device classes (``sim`` has several: one per modelled hardware)."""
    found: dict[str, list[type[Device]]] = {}
    for info in pkgutil.iter_modules(devices.__path__):
        module = importlib.import_module(f"{devices.__name__}.{info.name}")
        for cls in getattr(module, "DEVICES", ()):
            found.setdefault(cls.scheme, []).append(cls)
    return found


def resolve_device(spec: str, settings: Settings) -> Device:
    """The device for ``spec``; instances are cached per process (replay files load once)."""
    spec = spec.strip()
    cache_key = (spec, settings.database_url)
    with _instances_lock:
        if cache_key in _instances:
            _instances.move_to_end(cache_key)
            return _instances[cache_key]
        building = _building.setdefault(cache_key, threading.Lock())
    with building:
        with _instances_lock:
            if cache_key in _instances:
                return _instances[cache_key]
        try:
            device = _construct(spec, settings)
            with _instances_lock:
                _instances[cache_key] = device
                while len(_instances) > settings.device_cache_size:
                    _instances.popitem(last=False)
        finally:
            with _instances_lock:
                _building.pop(cache_key, None)
        return device


def _construct(spec: str, settings: Settings) -> Device:
    scheme = spec.partition(":")[0]
    for cls in device_classes().get(scheme, ()):
        accepts = getattr(cls, "accepts", None)
        if accepts is None or accepts(spec):
            return cls(spec, settings)
    raise UserInputError(f"unknown device {spec!r}; use one of: {', '.join(known_specs(settings))}")


def known_specs(settings: Settings) -> list[str]:
    specs: list[str] = []
    for classes in device_classes().values():
        for cls in classes:
            specs += cls.examples(settings)
    return specs


TargetRef = str | dict[str, Any] | None  # a target's name, or a submitted bundle: {"bundle": ..., "owner": ...}


def resolve_target(name: TargetRef, device: Device) -> Target:
    """The target a job names, the bundle it carries, or the one its device brings when it names none."""
    from tuneforge.kernels.registry import get_target

    if isinstance(name, dict):
        from tuneforge.kernels.bundle import bundle_target

        return bundle_target(name)
    own = device.own_target()
    if name is None:
        if own is None:
            raise UserInputError(f"name a target: device {device.spec!r} brings none (see `tuneforge targets`)")
        return own
    if own is not None and own.name == name:
        return own
    return get_target(name)
