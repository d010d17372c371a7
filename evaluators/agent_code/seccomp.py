"""A seccomp filter the sandboxed child installs on itself once its trusted imports are done.

It makes ``execve``/``execveat`` fail (no other program can start) and, where asked, refuses
new executable memory mappings (no native code can be loaded: ``dlopen`` must map a library
executable). The filter covers every thread (TSYNC) and is inherited by any child process;
it cannot be removed. Only x86-64 and aarch64 are known; on any other architecture
:func:`install` raises, and the caller fails closed.
"""

from __future__ import annotations

import ctypes
import platform
import struct

PR_SET_NO_NEW_PRIVS = 38
SECCOMP_SET_MODE_FILTER = 1
SECCOMP_FILTER_FLAG_TSYNC = 1
SECCOMP_RET_ALLOW = 0x7FFF0000
SECCOMP_RET_KILL_PROCESS = 0x80000000
SECCOMP_RET_ERRNO = 0x00050000
EPERM = 1
PROT_EXEC = 0x4
# BPF opcodes
LD_W_ABS = 0x20
JEQ_K = 0x15
JSET_K = 0x45
RET_K = 0x06

# machine: (audit arch, seccomp syscall, execve, execveat, mmap, mprotect)
ARCHES = {"x86_64": (0xC000003E, 317, 59, 322, 9, 10), "aarch64": (0xC00000B7, 277, 221, 281, 222, 226)}


class SeccompUnavailable(RuntimeError):
    pass


def _insn(code: int, jt: int, jf: int, k: int) -> bytes:
    return struct.pack("HBBI", code, jt, jf, k)


def _program(arch: int, execve: int, execveat: int, mmap: int, mprotect: int, no_exec_memory: bool) -> list[bytes]:
    deny = SECCOMP_RET_ERRNO | EPERM
    prog = [_insn(LD_W_ABS, 0, 0, 4),  # seccomp_data.arch
            _insn(JEQ_K, 1, 0, arch),
            _insn(RET_K, 0, 0, SECCOMP_RET_KILL_PROCESS),
            _insn(LD_W_ABS, 0, 0, 0),  # seccomp_data.nr
            _insn(JEQ_K, 0, 1, execve), _insn(RET_K, 0, 0, deny),
            _insn(JEQ_K, 0, 1, execveat), _insn(RET_K, 0, 0, deny)]
    if no_exec_memory:
        prog += [_insn(JEQ_K, 1, 0, mmap), _insn(JEQ_K, 0, 3, mprotect),
                 _insn(LD_W_ABS, 0, 0, 32),  # low half of args[2], the protection
                 _insn(JSET_K, 0, 1, PROT_EXEC), _insn(RET_K, 0, 0, deny)]
    prog.append(_insn(RET_K, 0, 0, SECCOMP_RET_ALLOW))
    return prog


def install(*, no_exec_memory: bool) -> None:
    machine = platform.machine()
    if machine not in ARCHES:
        raise SeccompUnavailable(f"no seccomp filter for {machine}")
    arch, nr_seccomp, execve, execveat, mmap, mprotect = ARCHES[machine]
    insns = _program(arch, execve, execveat, mmap, mprotect, no_exec_memory)
    code = ctypes.create_string_buffer(b"".join(insns))

    class SockFprog(ctypes.Structure):
        _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]

    prog = SockFprog(len(insns), ctypes.addressof(code))
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
        raise SeccompUnavailable(f"prctl(NO_NEW_PRIVS) failed: errno {ctypes.get_errno()}")
    libc.syscall.restype = ctypes.c_long
    if libc.syscall(ctypes.c_long(nr_seccomp), ctypes.c_uint(SECCOMP_SET_MODE_FILTER),
                    ctypes.c_uint(SECCOMP_FILTER_FLAG_TSYNC), ctypes.byref(prog)) != 0:
        raise SeccompUnavailable(f"seccomp(SET_MODE_FILTER) failed: errno {ctypes.get_errno()}")
