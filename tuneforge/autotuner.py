"""``tuneforge.autotune``: ``triton.autotune`` that first asks where a config is already known.

At the first call for a key it takes the config stored for (kernel source hash, key arguments
bucketed, GPU and compute capability, Triton version) from the local cache, then from the given
sources (an exported file, a tuneforge server); only when none has one does it benchmark the
configs as Triton does, pick deterministically (the first config within a tie tolerance of the
fastest, in the list's order) and cache the choice. Offline (release) mode never benchmarks and
never reaches the network: a key nothing stored falls back to the first config that survives
pruning. Under TRITON_INTERPRET nothing can be timed, so a miss takes that same first config and
caches it marked ``untimed`` (unless the caller passes its own ``do_bench``).
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

import triton
from triton.runtime.autotuner import Autotuner as TritonAutotuner

from tuneforge.autotune_keys import INTERPRETER_DEVICE, LookupKey, bucket_of, kernel_hash
from tuneforge.autotune_sources import (FileSource, LocalCache, StoredConfig, choose, default_cache_dir,
                                        parse_sources)

log = logging.getLogger("tuneforge.autotune")
_LAUNCH_FIELDS = ("num_warps", "num_stages", "num_ctas", "maxnreg")


def _offline_from_env() -> bool:
    return os.environ.get("TUNEFORGE_AUTOTUNE_OFFLINE", "").lower() in ("1", "true", "yes")


def _interpreting() -> bool:
    return os.environ.get("TRITON_INTERPRET", "") not in ("", "0")


def device_identity() -> str:
    if _interpreting():
        return INTERPRETER_DEVICE
    import torch

    index = torch.cuda.current_device()
    major, minor = torch.cuda.get_device_capability(index)
    return f"{torch.cuda.get_device_name(index)} (sm_{major}{minor})"


def config_from_kwargs(kwargs: dict[str, Any]) -> triton.Config:
    launch = {k: kwargs[k] for k in _LAUNCH_FIELDS if kwargs.get(k) is not None}
    return triton.Config({k: v for k, v in kwargs.items() if k not in _LAUNCH_FIELDS and k != "ir_override"},
                         **launch)


class Autotuner(TritonAutotuner):
    """Triton's autotuner with tuneforge's stored configs in front of its benchmark."""

    def __init__(self, fn, configs, key, *, source=None, api_key=None, cache_dir=None, offline=None,
                 tie_tolerance=0.02, **triton_options) -> None:
        super().__init__(fn, fn.arg_names, configs, key, triton_options.pop("reset_to_zero", None),
                         triton_options.pop("restore_value", None), **triton_options)
        self.sources = parse_sources(source, api_key)
        self.local = LocalCache(Path(cache_dir) if cache_dir else default_cache_dir())
        self.offline = _offline_from_env() if offline is None else offline
        self.tie_tolerance = tie_tolerance
        self.kernel = kernel_hash(fn)
        # The interpreter cannot time a kernel; a benchmarker the caller gives decides what timing means there.
        self.can_time = not _interpreting() or triton_options.get("do_bench") is not None
        self.chosen: dict[tuple, StoredConfig] = {}  # Triton's key -> the answer and where it came from

    def _triton_key(self, args: tuple, kwargs: dict) -> tuple[tuple, dict[str, Any], list[str]]:
        """Triton's own cache key (key arguments, then every tensor argument's dtype), and its parts."""
        named = {k: v for k, v in {**dict(zip(self.arg_names, args)), **kwargs}.items() if k in self.arg_names}
        values = {k: named[k] for k in self.keys if k in named}
        dtypes = [str(v.dtype) for v in named.values() if hasattr(v, "dtype")]
        return (*values.values(), *dtypes), values, dtypes

    def lookup_key(self, values: dict[str, Any], dtypes: list[str]) -> LookupKey:
        return LookupKey(self.kernel, bucket_of(values, dtypes), device_identity(), triton.__version__)

    def run(self, *args, **kwargs):
        if len(self.configs) > 1:
            triton_key, values, dtypes = self._triton_key(args, kwargs)
            if triton_key not in self.cache:
                self.nargs = dict(zip(self.arg_names, args))
                stored = self._resolve(self.lookup_key(values, dtypes), args, kwargs)
                self.chosen[triton_key] = stored
                self.cache[triton_key] = config_from_kwargs(stored.config)
        return super().run(*args, **kwargs)

    def _resolve(self, key: LookupKey, args: tuple, kwargs: dict) -> StoredConfig:
        found = self.local.get(key)
        if found is None:
            for source in self.sources:
                if self.offline and not isinstance(source, FileSource):
                    continue  # offline: files only, no network
                found = source.get(key)
                if found is not None:
                    self.local.put(key, found)
                    break
        if found is not None:
            log.info("autotune %s %s: %s from %s", self.base_fn.__name__, key.bucket, found.config, found.origin)
            return found
        candidates = self.prune_configs(kwargs)
        if self.offline or not self.can_time:
            why = "offline mode" if self.offline else "the Triton interpreter cannot time"
            stored = StoredConfig(candidates[0].all_kwargs(), None, "untimed", f"first config ({why})")
            if not self.offline:
                self.local.put(key, stored)
            return stored
        timings = [self._bench(*args, config=c, **kwargs)[0] for c in candidates]
        index = choose(timings, self.tie_tolerance)
        best = candidates[index]
        self.pre_hook({**self.nargs, **kwargs, **best.all_kwargs()}, reset_only=True)
        stored = StoredConfig(best.all_kwargs(), float(timings[index]), "measured", "benchmarked here")
        self.local.put(key, stored)
        return stored


def autotune(configs, key, prune_configs_by=None, reset_to_zero=None, restore_value=None, *, source=None,
             api_key=None, cache_dir=None, offline=None, tie_tolerance=0.02, **triton_options):
    """A drop-in for ``triton.autotune`` (same positional arguments and options) that first takes a
    stored config. ``source``: an exported autotune file, a server URL (``http://host:8000``), or a
    list of them (default: TUNEFORGE_AUTOTUNE_SOURCE). ``offline`` (default: TUNEFORGE_AUTOTUNE_OFFLINE)
    never benchmarks and never reaches the network."""

    def decorator(fn):
        return Autotuner(fn, configs, key, source=source, api_key=api_key, cache_dir=cache_dir, offline=offline,
                         tie_tolerance=tie_tolerance, prune_configs_by=prune_configs_by, reset_to_zero=reset_to_zero,
                         restore_value=restore_value, **triton_options)

    return decorator
