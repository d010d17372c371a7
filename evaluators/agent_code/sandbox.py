"""Running untrusted code in a fresh process with limits (the parent's side).

Layers, from the kernel up:
- rlimits set by the child on itself before any import: address space (memory), CPU seconds,
  size of any file written, open files, no core dumps;
- a wall-clock limit enforced here: the child runs in its own session and the whole process
  group is killed when it overruns;
- a private network namespace (``unshare``) when the host permits one, so sockets reach nothing;
- the audit-hook guard (:mod:`evaluators.agent_code.guard`) for network, processes, file
  writes outside a scratch directory, native code and heap walking;
- a scratch directory as HOME/TMPDIR/Triton cache, deleted afterwards.

One process per run: nothing a candidate loads or patches survives into the next one.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from tuneforge.core.settings import REPO_ROOT


@dataclass(frozen=True)
class Limits:
    wall_s: float = 120.0
    cpu_s: int = 120
    memory_bytes: int | None = 4 * 2**30  # address space; None where a GPU driver maps more (cuda)
    file_bytes: int = 16 * 2**20
    open_files: int = 512


@dataclass
class SandboxRun:
    """What came back: ``reply`` is the entry's return value when it finished."""

    reply: Any = None
    error: str | None = None  # the entry raised this
    memory_error: bool = False
    blocked: list[tuple[str, str]] = field(default_factory=list)  # guard: (kind, detail) of each attempt
    network_isolation: str = ""
    timed_out: bool = False
    signal: str | None = None  # the child died of this signal
    returncode: int | None = None
    stderr_tail: str = ""


def tool_dirs(device: str) -> tuple[str, ...]:
    """Executables the Triton compiler itself starts on a GPU (ptxas and friends)."""
    if device == "cpu":
        return ()
    import importlib.util

    spec = importlib.util.find_spec("triton")
    return (str(Path(spec.origin).parent / "backends"),) if spec and spec.origin else ()


def run_sandboxed(entry: str, payload: dict[str, Any], *, limits: Limits = Limits(), device: str = "cpu") -> SandboxRun:
    """Run ``module:function`` on ``payload`` in a sandbox process and return what happened."""
    scratch = Path(tempfile.mkdtemp(prefix="tuneforge-sandbox-"))
    nonce = secrets.token_hex(16)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TUNEFORGE_", "OPENAI_"))}  # no secrets
    env.update(PYTHONPATH=os.pathsep.join(p for p in (str(REPO_ROOT), env.get("PYTHONPATH")) if p),
               HOME=str(scratch), TMPDIR=str(scratch), TRITON_CACHE_DIR=str(scratch / "triton-cache"),
               PYTHONDONTWRITEBYTECODE="1")
    if device == "cpu":
        env["TRITON_INTERPRET"] = "1"
    else:
        env.pop("TRITON_INTERPRET", None)
    request = {"entry": entry, "payload": payload, "nonce": nonce, "scratch": str(scratch),
               "limits": asdict(limits), "tool_dirs": list(tool_dirs(device))}
    proc = subprocess.Popen([sys.executable, "-m", "tuneforge.evaluators.agent_code.child"], cwd=scratch, env=env,
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            start_new_session=True)
    run = SandboxRun()
    try:
        stdout, stderr = proc.communicate(json.dumps(request).encode(), timeout=limits.wall_s)
    except subprocess.TimeoutExpired:
        _kill_group(proc)
        stdout, stderr = proc.communicate()
        run.timed_out = True
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    run.returncode = proc.returncode
    if proc.returncode is not None and proc.returncode < 0:
        run.signal = signal.Signals(-proc.returncode).name
    run.stderr_tail = stderr.decode(errors="replace")[-3000:]
    for line in stdout.decode(errors="replace").splitlines():
        if line.startswith(nonce):
            answer = json.loads(line[len(nonce):])
            run.reply, run.error = answer.get("reply"), answer.get("error")
            run.memory_error = bool(answer.get("memory_error"))
            run.blocked = [tuple(b) for b in answer.get("blocked", [])]
            run.network_isolation = answer.get("network_isolation", "")
    return run


def _kill_group(proc: subprocess.Popen) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
