"""Raw search traces on disk, so slow runs (Kernel Tuner's) are made once and reused.

``bench search --out DIR`` writes every trace to ``DIR/traces.json``; a later run given
``--reuse FILE`` takes the Kernel Tuner traces it needs from there instead of rerunning
them. A trace is reused only for the same space, strategy and seed, and only if it was
run to at least the budget now asked for.
"""

from __future__ import annotations

import json
from pathlib import Path

from tuneforge.core.errors import UserInputError
from tuneforge.bench.search.replay_run import Trace
from tuneforge.bench.search.stats import RunKey


def save_traces(traces: dict[RunKey, Trace], budget: int, path: Path) -> None:
    rows = [{"space": k.space, "method": k.method, "parallel": k.parallel, "seed": k.seed, "refill": k.refill,
             "mode": k.mode, "budget": budget, "times_ms": t.times_ms, "wall_s": t.wall_s, "configs": t.configs}
            for k, t in traces.items()]
    path.write_text(json.dumps({"traces": rows}))


def load_traces(path: Path) -> dict[RunKey, tuple[int, Trace]]:
    """Traces by key, each with the budget it was run to."""
    try:
        rows = json.loads(path.read_text())["traces"]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise UserInputError(f"{path} is not a traces.json written by `bench search --out`: {exc}") from exc
    return {RunKey(r["space"], r["method"], r["parallel"], r["seed"], r["refill"], r.get("mode", "cold")):
            (r["budget"], Trace(r["times_ms"], r["wall_s"], r.get("configs", []))) for r in rows}
