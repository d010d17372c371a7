"""One Kernel Tuner search on the same recorded space, in Kernel Tuner's simulation mode.

Kernel Tuner reads plain JSON cache files, so a gzipped file is unpacked once into a
scratch folder. Its strategies draw from Python's and numpy's global generators, which
are seeded per run. Revisits of a config cost Kernel Tuner nothing, so a trace keeps
each config's first evaluation only: trial k is the k-th distinct config it evaluated.
"""

from __future__ import annotations

import gzip
import random
import shutil
import warnings
from functools import lru_cache
from pathlib import Path

import numpy as np

from tuneforge.search.bench.replay_run import Trace

STRATEGIES = ("random_sample", "genetic_algorithm", "simulated_annealing", "greedy_ils", "mls", "pso",
              "diff_evo", "firefly_algorithm", "basinhopping", "dual_annealing", "bayes_opt")


def available() -> bool:
    try:
        import kernel_tuner  # noqa: F401
    except ImportError:
        return False
    return True


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


def run_kernel_tuner(json_path: Path, param_names: list[str], strategy: str, seed: int, budget: int) -> Trace:
    from kernel_tuner.interface import tune_cache

    _share_cache_reads()
    random.seed(seed)
    np.random.seed(seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        results, _ = tune_cache(str(json_path), strategy=strategy, strategy_options={"max_fevals": budget},
                                quiet=True, verbose=False)
    trace, firsts = Trace(), set()
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
        trace.wall_s.append(0.0)
        if len(trace.times_ms) == budget:
            break
    return trace

