"""The sandbox as an attacker meets it, run as root as CI runs it.

Two halves. The kernel layers alone: a probe program runs inside the same confinement as the
candidate child (bubblewrap, a fresh unprivileged uid, rlimits) and reports what it could do.
The whole path: candidates with the static checks off try each resource attack and must end
with a named status while the process that verifies them carries on.
"""

from __future__ import annotations

import json
import os
import socket
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from tuneforge.evaluators.agent_code.sandbox import Limits, Sandbox, python_executable
from tuneforge.evaluators.agent_code.verify import verify_agent_source
from tuneforge.kernels.registry import get_target
from tests.agents.tricks import LAUNCH, softmax_module

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="the sandbox starts children as fresh users: needs root")

PROBE = r'''
import ctypes, json, os, shutil, socket, subprocess, sys
found = {"uid": os.getuid(), "env": sorted(os.environ), "cwd": os.getcwd()}

def attempt(name, fn):
    try:
        found[name] = ["ok", repr(fn())[:200]]
    except BaseException as exc:
        found[name] = ["denied", type(exc).__name__]

secret = sys.argv[1]
attempt("read_secret", lambda: open(secret).read())
attempt("read_passwd", lambda: open("/etc/passwd").read())
attempt("list_root_home", lambda: os.listdir("/root"))
attempt("read_git", lambda: os.listdir(sys.argv[2]))
attempt("write_repo", lambda: open(sys.argv[3], "w").write("x"))
attempt("write_secret", lambda: open(secret, "a").write("x"))
attempt("write_scratch", lambda: open("inside.txt", "w").write("x"))
attempt("redis", lambda: socket.create_connection(("127.0.0.1", 6379), timeout=2))
attempt("postgres", lambda: socket.create_connection(("127.0.0.1", 5432), timeout=2))
attempt("exec_before_filter", lambda: subprocess.run(["/bin/true"]).returncode)
shutil.copy(sys.argv[4], "copy.so")  # a library this process has not loaded, as a new file
from tuneforge.evaluators.agent_code import seccomp
seccomp.install(no_exec_memory=True)
attempt("exec", lambda: subprocess.run(["/bin/true"]).returncode)
attempt("native_code", lambda: ctypes.CDLL(os.path.abspath("copy.so")))
def fork_bomb():
    pids = []
    try:
        while True:
            pid = os.fork()
            if pid == 0:
                os.read(os.open("/proc/self/status", os.O_RDONLY), 1); __import__("time").sleep(30); os._exit(0)
            pids.append(pid)
    finally:
        for pid in pids:
            os.kill(pid, 9)
        found["forked"] = len(pids)
attempt("fork_bomb", fork_bomb)
attempt("memory_bomb", lambda: len(bytearray(16 * 2**30)))
attempt("huge_file", lambda: open("big", "wb").write(b"x" * (64 * 2**20)))
def fill_scratch():
    for i in range(1000):
        with open(f"fill{i}", "wb") as f:
            f.write(bytes(4 * 2**20))
attempt("fill_scratch", fill_scratch)
attempt("open_files", lambda: [open("inside.txt") for _ in range(100000)])
print(json.dumps(found), flush=True)
'''
ENV_SECRET = "TUNEFORGE_TEST_SECRET"


def _unloaded_library() -> str:
    import sysconfig

    found = sorted(Path(sysconfig.get_config_var("DESTSHARED")).glob("_lsprof*.so"))
    assert found, "no extension module to load"
    return str(found[0])


@pytest.fixture(scope="module")
def probe(tmp_path_factory) -> dict:
    secret = tmp_path_factory.mktemp("outside") / "credentials.txt"
    secret.write_text("hunter2")
    repo = Path(__file__).resolve().parents[2]
    os.environ[ENV_SECRET] = "sk-do-not-leak-123456"
    try:
        limits = Limits(wall_s=60, cpu_s=30, memory_bytes=2 * 2**30, file_bytes=8 * 2**20, scratch_bytes=32 * 2**20,
                        open_files=64, processes=32)
        with Sandbox("cpu", limits, argv=[python_executable(), "-c", PROBE, str(secret), str(repo / ".git"),
                                          str(repo / "escape.txt"), _unloaded_library()]) as box:
            code, sig, out = box.output()
            log = box.stderr_tail()
    finally:
        del os.environ[ENV_SECRET]
    assert code == 0 and sig is None, (code, sig, out, log)
    assert not (repo / "escape.txt").exists()
    assert secret.read_text() == "hunter2"
    return json.loads(out.strip().splitlines()[-1])


def test_child_is_an_unprivileged_user_with_an_empty_environment(probe):
    assert probe["uid"] >= 3_000_000
    assert ENV_SECRET not in probe["env"] and "PATH" in probe["env"]
    assert set(probe["env"]) <= {"HOME", "TMPDIR", "TRITON_CACHE_DIR", "PYTHONDONTWRITEBYTECODE", "OMP_NUM_THREADS",
                                 "PATH", "TRITON_INTERPRET", "PWD", "LC_CTYPE"}


@pytest.mark.parametrize("attack", ["read_secret", "read_passwd", "read_git"])
def test_child_cannot_read_outside_scratch(probe, attack):
    assert probe[attack][0] == "denied", probe[attack]


def test_child_sees_only_the_interpreter_in_home_directories(probe):
    hidden = set(os.listdir("/root")) - {".pyenv"}
    assert hidden, "nothing in /root to hide on this machine"
    assert probe["list_root_home"][0] == "denied" or not any(name in probe["list_root_home"][1] for name in hidden)


@pytest.mark.parametrize("attack", ["write_repo", "write_secret"])
def test_child_cannot_write_outside_scratch(probe, attack):
    assert probe[attack][0] == "denied", probe[attack]
    assert probe["write_scratch"][0] == "ok"


@pytest.mark.parametrize("service", ["redis", "postgres"])
def test_child_cannot_reach_services_on_loopback(probe, service):
    port = {"redis": 6379, "postgres": 5432}[service]
    with socket.create_connection(("127.0.0.1", port), timeout=2):
        pass  # reachable from here, so the denial below is the sandbox's doing
    assert probe[service] == ["denied", "ConnectionRefusedError"] or probe[service][0] == "denied"


def test_child_cannot_exec_or_load_native_code_once_filtered(probe):
    assert probe["exec_before_filter"][0] == "ok"  # what the seccomp filter takes away
    assert probe["exec"] == ["denied", "PermissionError"]
    assert probe["native_code"] == ["denied", "OSError"]


def test_resource_bombs_hit_their_limits(probe):
    assert probe["fork_bomb"] == ["denied", "BlockingIOError"] and probe["forked"] < 32
    assert probe["memory_bomb"] == ["denied", "MemoryError"]
    assert probe["huge_file"][0] == "denied"
    assert probe["fill_scratch"] == ["denied", "OSError"]  # the scratch tmpfs is full, the host disk untouched
    assert probe["open_files"] == ["denied", "OSError"]


# -- the whole path: a candidate with the static checks off ------------------------------------------------
BOMBS = {
    "fork bomb": ("import os\nwhile True:\n    os.fork()", "process"),
    "memory bomb": ("hoard = [bytearray(2**30) for _ in range(64)]", "memory-limit"),
    "cpu spin": ("while True:\n    pass", "cpu-limit"),
    "huge file": ("with open('big', 'wb') as f:\n    f.write(bytes(64 * 2**20))", "file-limit"),
    "open-files flood": ("files = [open('f', 'w') for _ in range(100000)]", "open-files-limit"),
}
BOMB_LIMITS = Limits(wall_s=90, cpu_s=10, memory_bytes=3 * 2**30, file_bytes=8 * 2**20, open_files=128)


def _softmax(source: str, limits: Limits):
    target = get_target("softmax")
    config = {"BLOCK_N": 256, "num_warps": 4, "num_stages": 2}
    return verify_agent_source(target, target.parse_problem(dtype="fp32"), config, source, limits=limits,
                               static=False)


@pytest.fixture(scope="module")
def bomb_verdicts():
    with ThreadPoolExecutor(3) as pool:
        futures = {name: pool.submit(_softmax, softmax_module(body + "\n" + LAUNCH + "\nreturn out"), BOMB_LIMITS)
                   for name, (body, _) in BOMBS.items()}
        # Queued behind the bombs: the verifying process carries on and judges the next candidate normally.
        futures["honest afterwards"] = pool.submit(_softmax, softmax_module(LAUNCH + "\nreturn out"), BOMB_LIMITS)
        return {name: f.result() for name, f in futures.items()}


@pytest.mark.parametrize("bomb", sorted(BOMBS))
def test_each_bomb_is_contained_with_a_named_status(bomb, bomb_verdicts):
    verdict = bomb_verdicts[bomb]
    assert verdict.rule == BOMBS[bomb][1], f"{verdict.status} {verdict.rule}: {verdict.message}"
    assert not verdict.passed


def test_the_verifier_survives_every_bomb(bomb_verdicts):
    verdict = bomb_verdicts["honest afterwards"]
    assert verdict.passed, f"{verdict.rule}: {verdict.message}"


def test_the_directory_that_started_the_server_is_not_shown_to_the_child(tmp_path, monkeypatch):
    """`python -m tuneforge serve` in a home directory puts it first on sys.path; a script in /tmp puts
    /tmp there. Neither may be bound into the sandbox (nor anything that would cover its scratch)."""
    from tuneforge.evaluators.agent_code import sandbox

    home = tmp_path / "home"
    (home / ".ssh").mkdir(parents=True)
    (home / ".ssh" / "id_ed25519").write_text("PRIVATE")
    monkeypatch.setattr("sys.path", [str(home), "/tmp", *__import__("sys").path])
    bound = sandbox._python_dirs()
    assert not any(str(home).startswith(d.rstrip("/") + "/") or str(home) == d for d in bound), bound
    assert not any(str(sandbox.SCRATCH).startswith(d.rstrip("/") + "/") or str(sandbox.SCRATCH) == d for d in bound)
    torch_dir = os.path.realpath(os.path.dirname(__import__("torch").__file__))
    assert any(torch_dir.startswith(d.rstrip("/") + "/") for d in bound), "the installed packages must still be there"
