"""A target whose tuning space is the config list of an existing ``triton.autotune`` kernel.

``scale_shift@my_pkg.kernels:add_one`` is target ``scale_shift`` (its reference, shapes, checks and
model) tuned over the configs ``my_pkg.kernels:add_one`` was decorated with. The kernel must live in
the same top-level package as the target's card, so a job names only code that is already
trusted as a target (the registry never imports an arbitrary module a request names).
"""

from __future__ import annotations

import importlib
from typing import Any

from tuneforge.core.errors import UserInputError
from tuneforge.core.space import Param, Space
from tuneforge.core.types import Problem
from tuneforge.kernels._base import Target

SEPARATOR = "@"
LAUNCH_KEYWORDS = ("num_warps", "num_stages")  # what every launch wrapper takes besides the kernel's meta-parameters


def configs_of(kernel: Any, spec: str) -> list[dict[str, Any]]:
    configs = getattr(kernel, "configs", None)
    if not configs or not all(hasattr(c, "kwargs") for c in configs):
        raise UserInputError(f"{spec} is not decorated with triton.autotune or tuneforge.autotune (no config list)")
    return [{**c.kwargs, **{k: getattr(c, k) for k in LAUNCH_KEYWORDS if getattr(c, k, None) is not None}}
            for c in configs]


def space_of_configs(configs: list[dict[str, Any]]) -> Space:
    """Exactly the listed configs: each parameter's values in order, the list as the allowed points."""
    names = list(dict.fromkeys(name for config in configs for name in config))
    partial = [i for i, c in enumerate(configs) if set(c) != set(names)]
    if partial:
        raise UserInputError(f"config(s) {partial} of the autotune list do not set every parameter {names}")
    params = [Param(n, tuple(sorted({c[n] for c in configs}, key=lambda v: (str(type(v)), v)))) for n in names]
    return Space(params=params, allowed=frozenset(tuple(c[n] for n in names) for c in configs))


def split_spec(spec: str) -> tuple[str, str]:
    module_name, _, attr = spec.partition(":")
    if not module_name or not attr:
        raise UserInputError(f"name the kernel as module:name (e.g. my_pkg.kernels:matmul_kernel), not {spec!r}")
    return module_name, attr


def load_kernel(spec: str) -> Any:
    """``package.module:name`` -> the object (an autotuned kernel)."""
    module_name, attr = split_spec(spec)
    try:
        return getattr(importlib.import_module(module_name), attr)
    except (ImportError, AttributeError) as exc:
        raise UserInputError(f"cannot load {spec!r} ({exc}); is its package installed?") from exc


def derived_target(base: Target, spec: str) -> Target:
    module_name, _ = split_spec(spec)
    card_root = type(base).__module__.split(".")[0]
    if module_name.split(".")[0] != card_root:
        raise UserInputError(f"the autotuned kernel {spec!r} must live in the package of target {base.name!r} "
                             f"({card_root}), whose reference and checks it is tuned against")
    kernel = load_kernel(spec)
    space = space_of_configs(configs_of(kernel, spec))
    own = set(base.space(base.default_problem()).names)
    if set(space.names) != own:
        raise UserInputError(f"the autotune configs of {spec} set {sorted(space.names)}, target {base.name!r} "
                             f"takes {sorted(own)}; they must name the same parameters")

    def fixed_space(self, problem: Problem) -> Space:
        return space

    cls = type(f"{type(base).__name__}FromAutotune", (type(base),),
               {"__module__": type(base).__module__, "name": f"{base.name}{SEPARATOR}{spec}",
                "description": f"{base.description} (space: the autotune configs of {spec})", "space": fixed_space,
                "function_name": getattr(base, "function_name", base.name)})
    return cls()


def autotuned_name(target: str | None, spec: str | None) -> str | None:
    """The job's target for ``tuneforge tune TARGET --from-autotune module:kernel``."""
    if spec is None:
        return target
    if not target:
        raise UserInputError("--from-autotune needs a TARGET: the target whose reference and checks the configs "
                             "are tuned against")
    return f"{target}{SEPARATOR}{spec}"
