"""An audit hook (PEP 578) for the sandbox process, installed after the trusted imports and before
any candidate code runs.

It makes network access, starting processes (other than the Triton toolchain's own
binaries), writing or deleting files outside the scratch directory, loading native code and
walking the heap fail with :class:`SandboxViolation`, and remembers every attempt so that a
candidate that swallows the exception is still rejected.

What it does not guarantee: audit hooks are a tripwire, not a security boundary. Native code
already loaded (torch, triton) can do anything without raising an event, and Python code
that reaches interpreter internals could bypass the hook. The static checks keep candidate
code away from those routes; the kernel-level layers (rlimits, a network namespace when the
host allows one) do not depend on the hook at all.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

NETWORK = {"socket.connect", "socket.bind", "socket.sendto", "socket.sendmsg", "socket.getaddrinfo",
           "socket.gethostbyname", "socket.gethostbyaddr", "socket.__new__", "urllib.Request"}
PROCESS = {"subprocess.Popen", "os.system", "os.exec", "os.posix_spawn", "os.spawn", "os.fork", "os.forkpty",
           "os.kill", "os.killpg", "pty.spawn"}
FILE_CHANGE = {"os.remove", "os.rename", "os.rmdir", "os.mkdir", "os.chmod", "os.chown", "os.link", "os.symlink",
               "os.truncate", "os.utime", "shutil.rmtree", "shutil.move", "shutil.copyfile"}
NATIVE = {"ctypes.dlopen", "ctypes.dlsym", "ctypes.cdata", "ctypes.call_function", "ctypes.addressof"}
HEAP = {"gc.get_objects", "gc.get_referrers", "gc.get_referents", "sys._current_frames", "sys.settrace",
        "sys.setprofile"}
WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_APPEND | os.O_TRUNC


class SandboxViolation(PermissionError):
    def __init__(self, kind: str, detail: str) -> None:
        super().__init__(f"sandbox blocked {kind}: {detail}")
        self.kind = kind


_attempts: list[tuple[str, str]] = []


def attempts() -> list[tuple[str, str]]:
    """(kind, detail) of every blocked attempt so far."""
    return list(_attempts)


def _inside(path: object, roots: tuple[str, ...]) -> bool:
    if not isinstance(path, (str, bytes, os.PathLike)):
        return False  # a file descriptor: never a place to write to
    resolved = os.path.realpath(os.fsdecode(path))
    return any(resolved == r or resolved.startswith(r + os.sep) for r in roots)


def _writes(mode: object, flags: object) -> bool:
    if isinstance(mode, str):
        return any(c in mode for c in "wax+")
    return isinstance(flags, int) and bool(flags & WRITE_FLAGS)


def install(scratch: Path, tool_dirs: tuple[str, ...] = ()) -> None:
    """Block everything above for the rest of this process; ``tool_dirs`` hold executables that may run."""
    writable = (os.path.realpath(scratch),)
    tools = tuple(os.path.realpath(d) for d in tool_dirs)

    def block(kind: str, detail: str) -> None:
        _attempts.append((kind, detail))
        raise SandboxViolation(kind, detail)

    def hook(event: str, args: tuple) -> None:
        if event in NETWORK:
            block("network", event)
        elif event in PROCESS or event.startswith("os.exec") or event.startswith("os.spawn"):
            executable = args[0] if args else None
            if event != "subprocess.Popen" or not _inside(executable, tools):
                block("process", f"{event} {executable!r}")
        elif event == "open" and _writes(args[1] if len(args) > 1 else None, args[2] if len(args) > 2 else None):
            if not _inside(args[0], writable):
                block("file-write", f"open {args[0]!r} for writing")
        elif event in FILE_CHANGE and args and not _inside(args[0], writable):
            block("file-write", f"{event} {args[0]!r}")
        elif event in NATIVE:
            block("native-code", event)
        elif event in HEAP:
            block("introspection", event)

    sys.addaudithook(hook)
