"""Starting the sandboxed child that runs untrusted kernel code (the parent's side).

Layers, from the kernel up (docs/verification.md says what each guarantees):
- bubblewrap (the sandbox Flatpak uses): new mount, pid, network, IPC and UTS namespaces; a
  root that holds only the read-only directories Python needs (the interpreter, its
  libraries, the tuneforge packages) and one writable scratch directory (a size-limited
  tmpfs that disappears with the sandbox); an empty
  environment; the child dies with its parent;
- an unprivileged user: a fresh uid per run (setpriv drops every capability and sets
  no_new_privs before Python starts), so the rlimits below bind and no file of another run
  or of the service is writable;
- rlimits: processes, address space, CPU seconds, file size, open files, no core dumps;
- a wall-clock limit enforced here (the whole process group is killed);
- inside the child: a seccomp filter (no exec, no new executable memory on cpu), the
  audit-hook tripwire and the torch dispatch policy.

Anything missing from the minimum (bubblewrap, setpriv, running as root to change user) makes
:func:`start` raise :class:`SandboxUnavailable`: the caller rejects the candidate rather than
running it unconfined.
"""

from __future__ import annotations

import os
import resource
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tuneforge.core.settings import REPO_ROOT
from tuneforge.evaluators.agent_code import frames

SYSTEM_DIRS = ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/etc/ld.so.cache", "/etc/ld.so.conf",
               "/etc/ld.so.conf.d", "/etc/alternatives")
UID_RANGE = (3_000_000, 3_900_000)  # no account uses these; each run gets its own


class SandboxUnavailable(RuntimeError):
    """This host cannot provide the sandbox's minimum; nothing was run."""


@dataclass(frozen=True)
class Limits:
    # None: no wall-clock limit of the sandbox's own; the job's evaluation timeout kills the process that
    # started it, and bwrap (--die-with-parent) goes with that process.
    wall_s: float | None = 120.0
    cpu_s: int = 120
    memory_bytes: int | None = 4 * 2**30  # address space; None where a GPU driver maps more (cuda)
    file_bytes: int = 16 * 2**20  # any one file
    scratch_bytes: int = 64 * 2**20  # all files together (the scratch tmpfs)
    open_files: int = 256
    processes: int = 64  # threads count too (torch's pools)
    reply_bytes: int = 256 * 2**20  # the most the child may send back at once


def tool_dirs(device: str) -> tuple[str, ...]:
    """Executables the Triton compiler itself starts on a GPU (ptxas and friends)."""
    if device == "cpu":
        return ()
    import importlib.util

    spec = importlib.util.find_spec("triton")
    return (str(Path(spec.origin).parent / "backends"),) if spec and spec.origin else ()


def _tool(name: str) -> str:
    path = shutil.which(name) or next((p for p in (f"/usr/bin/{name}", f"/bin/{name}") if os.path.exists(p)), None)
    if path is None:
        raise SandboxUnavailable(f"{name} is not installed (Debian: apt-get install bubblewrap util-linux); "
                                 "agent-written code is not run without it")
    return path


def _import_roots() -> set[str]:
    """The directories of sys.path that hold installed packages. Not the rest: the directory of the
    script or the working directory that started this process (a home directory, /tmp) would show
    the child whatever lies there."""
    prefixes = {os.path.realpath(p) for p in (sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix)}
    roots = set()
    for entry in sys.path:
        path = os.path.realpath(entry) if entry and os.path.isdir(entry) else None
        if path is None:
            continue
        inside_prefix = any(path == p or path.startswith(p.rstrip("/") + "/") for p in prefixes)
        if inside_prefix or os.path.basename(path) in ("site-packages", "dist-packages"):
            roots.add(path)
    return prefixes | roots


def _python_dirs() -> list[str]:
    """The read-only directories the child's interpreter needs, outermost first, none inside another,
    none that would cover its scratch."""
    wanted = _import_roots()
    # The repository's packages, not the repository: no .git, no local data or secrets files.
    wanted |= {str(p.resolve()) for p in Path(REPO_ROOT).iterdir()
               if p.is_dir() and not p.name.startswith(".") and (p / "__init__.py").exists()}
    wanted.discard(os.path.realpath(REPO_ROOT))
    wanted |= {p for p in SYSTEM_DIRS if os.path.exists(p)}
    wanted = {p for p in wanted if not (str(SCRATCH) == p or str(SCRATCH).startswith(p.rstrip("/") + "/"))}
    kept: list[str] = []
    for path in sorted(wanted, key=len):
        if not any(path == k or path.startswith(k.rstrip("/") + "/") for k in kept):
            kept.append(path)
    return kept


SCRATCH = Path("/tmp")  # inside the sandbox: a private tmpfs of limited size


def bwrap_command(uid: int, device: str, argv: list[str], *, interpret: bool, scratch_bytes: int) -> list[str]:
    scratch = SCRATCH
    cmd = [_tool("bwrap"), "--unshare-pid", "--unshare-net", "--unshare-ipc", "--unshare-uts",
           "--unshare-cgroup-try", "--die-with-parent", "--new-session", "--clearenv",
           "--proc", "/proc", "--dev", "/dev", "--perms", "1777", "--size", str(scratch_bytes), "--tmpfs", str(scratch)]
    made: set[str] = set()
    for path in _python_dirs():
        parts = Path(path).parts[1:]
        for i in range(1, len(parts)):  # parents bwrap creates must be traversable by the child's user
            parent = "/" + "/".join(parts[:i])
            if parent not in made:
                made.add(parent)
                cmd += ["--perms", "0755", "--dir", parent]
        cmd += ["--ro-bind", path, path]
    if device == "cuda":
        for node in sorted(Path("/dev").glob("nvidia*")):
            cmd += ["--dev-bind", str(node), str(node)]
        cmd += ["--ro-bind", "/sys", "/sys"]  # the CUDA driver reads the PCI topology
    cmd += ["--chdir", str(scratch)]
    env = {"HOME": str(scratch), "TMPDIR": str(scratch), "TRITON_CACHE_DIR": str(scratch / "triton-cache"),
           "PYTHONDONTWRITEBYTECODE": "1", "OMP_NUM_THREADS": "1", "PATH": "/usr/bin:/bin",
           **({"TRITON_INTERPRET": "1"} if interpret else {})}
    for key, value in env.items():
        cmd += ["--setenv", key, value]
    cmd += [_tool("setpriv"), f"--reuid={uid}", f"--regid={uid}", "--clear-groups", "--no-new-privs",
            "--inh-caps=-all", "--bounding-set=-all", "--"]
    return cmd + argv


def python_executable() -> str:
    """This interpreter as the sandbox sees it (a virtual environment's own python finds its packages)."""
    return os.path.join(sys.exec_prefix, "bin", "python") if sys.prefix != sys.base_prefix else sys.executable


def _limit_self(limits: Limits) -> None:
    """Runs in the forked process before bwrap: rlimits survive exec and the change of user."""
    if limits.memory_bytes:
        resource.setrlimit(resource.RLIMIT_AS, (limits.memory_bytes, limits.memory_bytes))
    resource.setrlimit(resource.RLIMIT_CPU, (limits.cpu_s, limits.cpu_s + 1))
    resource.setrlimit(resource.RLIMIT_FSIZE, (limits.file_bytes, limits.file_bytes))
    resource.setrlimit(resource.RLIMIT_NOFILE, (limits.open_files, limits.open_files))
    resource.setrlimit(resource.RLIMIT_NPROC, (limits.processes, limits.processes))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


class Sandbox:
    """One sandboxed child; talk to it with :meth:`ask`; always :meth:`close` (or use ``with``)."""

    def __init__(self, device: str, limits: Limits, *, interpret: bool | None = None,
                 argv: list[str] | None = None) -> None:
        """``interpret`` runs Triton's interpreter (default: on cpu); off, Triton compiles. ``argv`` runs
        another program than the child (inside the same confinement)."""
        if os.geteuid() != 0:
            raise SandboxUnavailable("running agent-written code needs root to start it as a fresh unprivileged "
                                     "user (setpriv); run the worker as root in its container")
        self.limits = limits
        self.uid = secrets.choice(range(*UID_RANGE))
        self.scratch = SCRATCH
        self._stderr = tempfile.TemporaryFile()
        argv = argv or [python_executable(), "-B", "-m", "tuneforge.evaluators.agent_code.child"]
        try:
            command = bwrap_command(self.uid, device, argv, interpret=device == "cpu" if interpret is None else interpret,
                                    scratch_bytes=limits.scratch_bytes)
            self.proc = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self._stderr,
                                         cwd="/", preexec_fn=lambda: _limit_self(limits), start_new_session=True)
        except BaseException:
            self._cleanup()
            raise
        self.timed_out = False
        self._timer = threading.Timer(limits.wall_s, self._overrun) if limits.wall_s is not None else None
        if self._timer is not None:
            self._timer.daemon = True
            self._timer.start()

    def send(self, header: dict[str, Any], buffers: list[bytes] = ()) -> None:
        """Raises ChannelClosed when the child is gone."""
        assert self.proc.stdin is not None
        try:
            frames.send(self.proc.stdin, header, list(buffers))
        except (BrokenPipeError, OSError, ValueError) as exc:
            raise frames.ChannelClosed(str(exc)) from exc

    def receive(self) -> tuple[dict[str, Any], list[bytes]]:
        assert self.proc.stdout is not None
        return frames.receive(self.proc.stdout, max_buffer_bytes=self.limits.reply_bytes)

    def ask(self, header: dict[str, Any], buffers: list[bytes] = ()) -> tuple[dict[str, Any], list[bytes]]:
        """Send one message and wait for the answer."""
        self.send(header, buffers)
        return self.receive()

    def _overrun(self) -> None:
        self.timed_out = True
        self._kill()

    def _kill(self) -> None:
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass

    def exit_signal(self) -> str | None:
        """The signal the child (the program bwrap ran) died of, when it did."""
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            return None
        code = self.proc.returncode
        if code is not None and code > 128:  # bwrap reports its child's signal as 128 + n
            code = -(code - 128)
        return signal.Signals(-code).name if code is not None and code < 0 and -code in signal.valid_signals() \
            else None

    def stderr_tail(self, chars: int = 3000) -> str:
        self._stderr.seek(0, os.SEEK_END)
        size = self._stderr.tell()
        self._stderr.seek(max(0, size - chars))
        return self._stderr.read().decode(errors="replace")

    def close(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
        if self.proc.poll() is None:
            try:
                frames.send(self.proc.stdin, {"op": "bye"})
                self.proc.wait(timeout=2)
            except (OSError, subprocess.TimeoutExpired, ValueError):
                pass
        self._kill()
        self.proc.wait()
        self._cleanup()

    def output(self) -> tuple[int | None, str | None, str]:
        """Wait for a program started with ``argv``: (exit code, signal it died of, its stdout)."""
        assert self.proc.stdout is not None
        data = self.proc.stdout.read()
        self.proc.wait()
        self._timer.cancel()
        return self.proc.returncode, self.exit_signal(), data.decode(errors="replace")

    def _cleanup(self) -> None:
        self._stderr.close()

    def __enter__(self) -> Sandbox:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
