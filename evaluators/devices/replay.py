"""``replay:<file>``: answers from a measured tuning space (a Kernel Tuner cache file).

Every config in the file was compiled and timed on a real GPU. Replaying it tells
a search strategy what that GPU measured, and charges the trial the recorded
compile + benchmark time so time budgets behave as on the real card.
"""

from __future__ import annotations

import gzip
import json
import time
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from tuneforge.core.errors import UserInputError
from tuneforge.core.settings import Settings
from tuneforge.core.space import Param, Space
from tuneforge.core.types import Candidate, Problem, Provenance, TrialResult, TrialStatus
from tuneforge.evaluators._base import Device
from tuneforge.kernels._base import Target

# Kernel Tuner's failure markers and the status each one is.
_FAILURES = {
    "CompilationFailedConfig": TrialStatus.COMPILE_ERROR,
    "RuntimeFailedConfig": TrialStatus.CRASHED,
    "InvalidConfig": TrialStatus.INVALID,
}


@dataclass(frozen=True)
class RecordedSpace:
    path: Path
    device_name: str
    kernel_name: str
    problem_size: tuple[int, ...]
    params: tuple[Param, ...]
    entries: dict[tuple, dict[str, Any]]  # config key (params order) -> recorded entry

    @property
    def best_time_ms(self) -> float:
        return min(e["time"] for e in self.entries.values() if isinstance(e["time"], (int, float)))


@lru_cache(maxsize=32)
def load_recorded_space(path: Path, max_bytes: int = 64 * 2**20) -> RecordedSpace:
    """``path`` is resolved and inside an allowed directory (see ``ReplayDevice._locate``); cached by it."""
    try:
        opener = gzip.open if path.suffix == ".gz" else open
        with opener(path, "rt") as fh:
            text = fh.read(max_bytes + 1)
        if len(text) > max_bytes:
            raise ValueError("too large")
        data = json.loads(text)
        keys = data["tune_params_keys"]
        params = tuple(Param(k, tuple(data["tune_params"][k])) for k in keys)
        entries = {tuple(e[k] for k in keys): e for e in data["cache"].values()}
        size = data.get("problem_size") or []
        size = tuple(int(s) for s in (size if isinstance(size, list) else [size]))
    except (OSError, ValueError, KeyError, TypeError, AttributeError, EOFError):
        raise UserInputError(f"replay space {path.name!r} is not a readable Kernel Tuner cache file "
                             f"(at most {max_bytes} bytes, with tune_params_keys, tune_params and cache)") from None
    device_name = data.get("device_name") or path.name.split(".")[0].split("_", 1)[-1].replace("_", " ")
    return RecordedSpace(path=path, device_name=str(device_name), kernel_name=str(data.get("kernel_name") or path.stem),
                         problem_size=size, params=params, entries=entries)


class RecordedTarget(Target):
    """The kernel a recorded space was measured on; its space is exactly the recorded configs."""

    family = "replay"
    description = "a kernel whose whole tuning space was measured on a real GPU"

    def __init__(self, recorded: RecordedSpace) -> None:
        self.recorded = recorded
        self.name = recorded.kernel_name  # type: ignore[misc]
        self._problem = Problem(dims={f"n{i}": s for i, s in enumerate(recorded.problem_size)})
        self._space = Space(list(recorded.params), allowed=frozenset(recorded.entries))

    def default_problem(self) -> Problem:
        return self._problem

    def parse_problem(self, dims=None, dtype=None, extra=None) -> Problem:
        if dims or dtype or extra:
            raise UserInputError(f"a recorded space has a fixed problem {self._problem.key()}; "
                                 "drop --shape/--dtype for replay devices")
        return self._problem

    def space(self, problem: Problem) -> Space:
        return self._space


class ReplayDevice(Device):
    scheme = "replay"
    queue = "sim"
    provenance = Provenance.REPLAYED
    families = ("replay",)

    def __init__(self, spec: str, settings: Settings) -> None:
        super().__init__(spec, settings)
        path = self._locate(spec.partition(":")[2], settings)
        self.recorded = load_recorded_space(path, settings.replay_max_bytes)
        # One name per file, however it was given: files in the spaces folder go by their short name.
        in_spaces_dir = path.parent == settings.spaces_dir.resolve() and path.name.endswith(".json.gz")
        self.spec = f"replay:{path.name.removesuffix('.json.gz')}" if in_spaces_dir else f"replay:{path}"
        self._target = RecordedTarget(self.recorded)

    @staticmethod
    def _locate(arg: str, settings: Settings) -> Path:
        """A cache file inside the spaces directory (or an allow-listed one), by name or by a path that
        resolves inside it, no larger than the cap. Anything else gets the same answer, which says
        nothing about whether, where or what the file is."""
        for root in [settings.spaces_dir, *settings.replay_dirs]:
            found = _inside(root, arg, settings.replay_max_bytes)
            if found is not None:
                return found
        shown = arg if len(arg) <= 64 and arg.isprintable() else "that name"
        raise UserInputError(f"no replay space {shown!r} is available; use replay:NAME with a name that "
                             "`tuneforge devices` lists (GET /api/v1/devices), or add the file's directory "
                             "to TUNEFORGE_REPLAY_DIRS on the server")

    @property
    def hardware_name(self) -> str:
        return f"{self.recorded.device_name} (replayed)"

    def own_target(self) -> Target:
        return self._target

    def check_target(self, target: Target, problem: Problem) -> None:
        if target.name != self._target.name:
            raise UserInputError(f"{self.spec} holds measurements of {self._target.name!r}, not {target.name!r}; "
                                 f"omit TARGET or use {self._target.name!r}")

    def evaluate(self, target: Target, problem: Problem, candidate: Candidate) -> TrialResult:
        key = tuple(candidate.params.get(p.name) for p in self.recorded.params)
        entry = self.recorded.entries.get(key)
        common = {"provenance": self.provenance, "device_name": self.hardware_name}
        if entry is None:
            return TrialResult.failure(TrialStatus.INVALID, "config violates the kernel's constraints "
                                       "(absent from the recorded space)", **common)
        compile_s = float(entry.get("compile_time") or 0.0) / 1000
        bench_s = float(entry.get("benchmark_time") or 0.0) / 1000
        recorded = entry["time"]
        if isinstance(recorded, str):
            status = _FAILURES.get(recorded, TrialStatus.CRASHED)
            self._rehearse(compile_s)
            return TrialResult.failure(status, f"recorded as {recorded} on {self.recorded.device_name}",
                                       cost_s=compile_s, timings={"compile_s": compile_s}, **common)
        self._rehearse(compile_s + bench_s)
        times = entry.get("times") or [recorded]
        return TrialResult(status=TrialStatus.OK, cost_s=compile_s + bench_s,
                           metrics={"time_ms": float(recorded), "time_min_ms": float(min(times)),
                                    "time_max_ms": float(max(times))},
                           timings={"compile_s": compile_s, "bench_s": bench_s}, **common)

    def _rehearse(self, seconds: float) -> None:
        if self.settings.replay_sleep_scale:
            time.sleep(seconds * self.settings.replay_sleep_scale)

    @classmethod
    def examples(cls, settings: Settings) -> list[str]:
        if not settings.spaces_dir.is_dir():  # an installed copy without the measured spaces beside it
            return []
        return [f"replay:{p.name.removesuffix('.json.gz')}" for p in sorted(settings.spaces_dir.glob("*.json.gz"))]


def _inside(root: Path, arg: str, max_bytes: int) -> Path | None:
    if not arg or "\x00" in arg or len(arg) > 1024:
        return None
    try:
        real_root = root.resolve()
        for candidate in (real_root / arg, real_root / f"{arg}.json.gz"):
            real = candidate.resolve()
            if (real.is_relative_to(real_root) and real.name.endswith((".json", ".json.gz")) and real.is_file()
                    and real.stat().st_size <= max_bytes):
                return real
    except (OSError, ValueError, RuntimeError):
        return None
    return None


DEVICES = [ReplayDevice]
