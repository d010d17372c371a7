"""One Kernel Tuner search on the same recorded space, in Kernel Tuner's simulation mode.

Kernel Tuner reads plain JSON cache files, so a gzipped file is unpacked once into a
scratch folder. Its strategies draw from Python's and numpy's global generators, which
are seeded per run. Revisits of a config cost Kernel Tuner nothing, so a trace keeps
each config's first evaluation only: trial k is the k-th distinct config it evaluated.
"""

from __future__ import annotations

import gzip
import importlib
import random
import shutil
import warnings
from functools import lru_cache
from pathlib import Path

import numpy as np

from tuneforge.evaluators.devices.replay import RecordedSpace
from tuneforge.bench.search.replay_run import Trace

# Kernel Tuner 1.5's single-objective search strategies (brute_force is not a search).
# hybrid_vndx and adaptive_tabu_greywolf are the two generated with LLaMEA; skopt and
# pyatf_strategies need extra packages (scikit-optimize, pyatf) and run only where installed.
STRATEGIES = ("random_sample", "genetic_algorithm", "simulated_annealing", "greedy_ils", "mls", "greedy_mls",
              "ordered_greedy_mls", "pso", "diff_evo", "firefly_algorithm", "basinhopping", "dual_annealing",
              "minimize", "bayes_opt", "hybrid_vndx", "adaptive_tabu_greywolf", "nsga2", "nsga3", "skopt",
              "pyatf_strategies")
# Strategies that need a package Kernel Tuner does not depend on.
NEEDS = {"skopt": "skopt", "pyatf_strategies": "pyatf"}


def available(module: str = "kernel_tuner") -> bool:
    try:
        importlib.import_module(module)
    except ImportError:
        return False
    return True


def missing_packages(strategies: list[str]) -> list[str]:
    """Strategies asked for whose extra package is not installed."""
    return [s for s in strategies if s in NEEDS and not available(NEEDS[s])]


def plain_json(path: Path, scratch: Path) -> Path:
    if path.suffix != ".gz":
        return path
    out = scratch / path.name.removesuffix(".gz")
    if not out.exists():
        scratch.mkdir(parents=True, exist_ok=True)
        with gzip.open(path, "rb") as src, open(out.with_suffix(".part"), "wb") as dst:
            shutil.copyfileobj(src, dst)
        out.with_suffix(".part").rename(out)
    return out


_original_read = None


@lru_cache(maxsize=2)
def _read_once(path: str) -> dict:
    return _original_read(path, open_cache=False)


def _share_cache_reads() -> None:
    """Kernel Tuner re-reads the whole cache file on every run; read each file once per process
    (simulation mode never writes to it)."""
    global _original_read
    from kernel_tuner import util

    if _original_read is None:
        _original_read = util.read_cache
        util.read_cache = lambda path, open_cache=True: _read_once(str(path))


def charged_s(entry: dict | None) -> float:
    """What the replay device charges a trial of this recorded entry: compile + benchmark time,
    compile time only for a failure, nothing for a config outside the space."""
    if entry is None:
        return 0.0
    compile_s = float(entry.get("compile_time") or 0.0) / 1000
    ran = isinstance(entry.get("time"), (int, float))
    return compile_s + (float(entry.get("benchmark_time") or 0.0) / 1000 if ran else 0.0)


def run_kernel_tuner(json_path: Path, recorded: RecordedSpace, strategy: str, seed: int, budget: int) -> Trace:
    from kernel_tuner.interface import tune_cache

    _share_cache_reads()
    random.seed(seed)
    np.random.seed(seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        results, _ = tune_cache(str(json_path), strategy=strategy, strategy_options={"max_fevals": budget},
                                quiet=True, verbose=False)
    param_names = [p.name for p in recorded.params]
    trace, firsts, clock = Trace(), set(), 0.0
    for res in results:
        if res is None:
            continue
        key = tuple(res[k] for k in param_names)
        if key in firsts:
            continue
        firsts.add(key)
        time = res.get("time")
        ok = "__error__" not in res and isinstance(time, (int, float))
        trace.times_ms.append(float(time) if ok else None)
        clock += charged_s(recorded.entries.get(key))
        trace.wall_s.append(clock)
        if len(trace.times_ms) == budget:
            break
    return trace

