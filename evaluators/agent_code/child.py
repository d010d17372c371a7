"""The sandbox process: limits itself, isolates its network, imports the trusted entry point,
installs the guard, then runs the entry on the payload and answers on a private channel.

Protocol: one JSON request on stdin (read completely, then closed); one line on the
original stdout, prefixed with a nonce the candidate never sees in text. Everything the
candidate prints goes to stderr.
"""

from __future__ import annotations

import ctypes
import errno
import importlib
import json
import os
import resource
import sys
import traceback
from pathlib import Path

CLONE_NEWUSER = 0x10000000
CLONE_NEWNET = 0x40000000


def apply_limits(limits: dict) -> None:
    """Kernel-enforced limits for this process and anything it starts."""
    if limits.get("memory_bytes"):
        resource.setrlimit(resource.RLIMIT_AS, (limits["memory_bytes"], limits["memory_bytes"]))
    cpu = int(limits["cpu_s"])
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 1))  # SIGXCPU at the soft limit, SIGKILL at the hard one
    resource.setrlimit(resource.RLIMIT_FSIZE, (limits["file_bytes"], limits["file_bytes"]))
    resource.setrlimit(resource.RLIMIT_NOFILE, (limits["open_files"], limits["open_files"]))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


def isolate_network() -> str:
    """Move into a fresh network namespace (no interfaces up) when the host allows it.

    Must run while the process has a single thread (before torch starts its pools).
    """
    libc = ctypes.CDLL(None, use_errno=True)
    for flags, name in ((CLONE_NEWNET, "namespace"), (CLONE_NEWUSER | CLONE_NEWNET, "user+network namespace")):
        if libc.unshare(flags) == 0:
            return name
        if ctypes.get_errno() not in (errno.EPERM, errno.EINVAL, errno.ENOSPC, errno.EUSERS):
            break
    return "none (audit hook only)"


def main() -> None:
    request = json.loads(sys.stdin.read())
    sys.stdin.close()
    protocol = os.fdopen(os.dup(sys.stdout.fileno()), "w")
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())
    apply_limits(request["limits"])
    network = isolate_network()
    module_name, _, function_name = request["entry"].partition(":")
    entry = getattr(importlib.import_module(module_name), function_name)

    from tuneforge.evaluators.agent_code import guard

    guard.install(Path(request["scratch"]), tuple(request.get("tool_dirs", ())))
    answer: dict = {"network_isolation": network}
    try:
        answer["reply"] = entry(request["payload"])
    except BaseException as exc:  # noqa: BLE001 - reported, the parent decides
        answer["error"] = "".join(traceback.format_exception_only(exc)).strip()[-2000:]
        answer["memory_error"] = isinstance(exc, MemoryError)
    answer["blocked"] = guard.attempts()
    protocol.write(request["nonce"] + json.dumps(answer, default=str) + "\n")
    protocol.flush()


if __name__ == "__main__":
    main()
