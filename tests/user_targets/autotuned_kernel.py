"""A kernel decorated with tuneforge.autotune, run as a script by the tests (under TRITON_INTERPRET).

Prints one JSON line: the config chosen for the call, where it came from, and how many times a
config was benchmarked. ``AUTOTUNE_SOURCE`` and ``AUTOTUNE_TIMED`` come from the test.
"""

import json
import os
import sys
import time

import torch
import triton
import triton.language as tl

from tuneforge import autotune

BENCHMARKED = []


def wall_clock_bench(kernel_call, quantiles):
    """Times the interpreter's run with the wall clock (the interpreter has no device timer). The
    fastest of several runs: a busy machine only ever adds time, so the minimum is the steadiest."""
    kernel_call()
    runs = []
    for _ in range(7):
        start = time.perf_counter()
        kernel_call()
        runs.append((time.perf_counter() - start) * 1e3)
    BENCHMARKED.append(min(runs))
    return [min(runs)] * len(quantiles)


CONFIGS = [triton.Config({"BLOCK": 16}, num_warps=1), triton.Config({"BLOCK": 2048}, num_warps=4),
           triton.Config({"BLOCK": 1024}, num_warps=4)]
SOURCE = os.environ.get("AUTOTUNE_SOURCE") or None
TIMED = {"do_bench": wall_clock_bench} if os.environ.get("AUTOTUNE_TIMED") else {}


@autotune(configs=CONFIGS, key=["n"], source=SOURCE, tie_tolerance=0.5, **TIMED)
@triton.jit
def add_one(x_ptr, y_ptr, n, BLOCK: tl.constexpr):
    offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    tl.store(y_ptr + offs, tl.load(x_ptr + offs, mask=offs < n) + 1, mask=offs < n)


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
    x = torch.randn(n)
    y = torch.empty_like(x)
    add_one[lambda meta: (triton.cdiv(n, meta["BLOCK"]),)](x, y, n)
    assert torch.equal(y, x + 1), "wrong result"
    [(_, chosen)] = add_one.chosen.items()
    key = add_one.lookup_key({"n": n}, [str(x.dtype), str(y.dtype)])
    print(json.dumps({"config": chosen.config, "origin": chosen.origin, "provenance": chosen.provenance,
                      "benchmarked": len(BENCHMARKED), "timings": BENCHMARKED, "key": key.to_dict()}))


if __name__ == "__main__":
    main()
