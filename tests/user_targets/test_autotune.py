"""``tuneforge.autotune`` in fresh processes under the Triton interpreter, against a real server.

The kernel script (``autotuned_kernel.py``) prints what it chose and where from. Timing on a CPU
uses the script's own wall-clock ``do_bench`` (the interpreter has no device timer), which also
counts how often anything was benchmarked.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest

from tuneforge.autotune_keys import LookupKey
from tuneforge.autotune_sources import LocalCache, ServerSource, StoredConfig, choose
from tests.conftest import free_port

HERE = Path(__file__).parent
SCRIPT = HERE / "autotuned_kernel.py"
INTERPRETER = "Triton interpreter (CPU)"
# Triton's own cache format (what cache_results=True writes): the key, then every config with its
# timing quantiles in ms. BLOCK=1024 is fastest here, unlike the list's first config.
TRITON_CACHE = {"key": [1000, "torch.float32", "torch.float32"], "configs_timings": [
    [{"kwargs": {"BLOCK": 16}, "num_warps": 1, "num_ctas": 1, "num_stages": 3, "maxnreg": None, "pre_hook": None,
      "ir_override": None}, [5.0, 4.9, 5.1]],
    [{"kwargs": {"BLOCK": 2048}, "num_warps": 4, "num_ctas": 1, "num_stages": 3, "maxnreg": None,
      "pre_hook": None, "ir_override": None}, [1.5, 1.4, 1.6]],
    [{"kwargs": {"BLOCK": 1024}, "num_warps": 4, "num_ctas": 1, "num_stages": 3, "maxnreg": None,
      "pre_hook": None, "ir_override": None}, [1.0, 0.9, 1.1]]]}


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {**os.environ, "TRITON_INTERPRET": "1", "PYTHONPATH": str(HERE),
           "TUNEFORGE_DATABASE_URL": f"sqlite:///{tmp_path / 'server.db'}"}
    for name in ("TUNEFORGE_AUTOTUNE_SOURCE", "TUNEFORGE_AUTOTUNE_OFFLINE", "TUNEFORGE_BROKER_URL"):
        env.pop(name, None)
    return {**env, **extra}


def _run_kernel(tmp_path: Path, cache: str, **extra: str) -> dict:
    done = subprocess.run([sys.executable, str(SCRIPT)], capture_output=True, text=True, timeout=120,
                          env=_env(tmp_path, TUNEFORGE_AUTOTUNE_CACHE=str(tmp_path / cache), **extra))
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def _tuneforge(tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "tuneforge", *args], capture_output=True, text=True, timeout=120,
                          env=_env(tmp_path), cwd=tmp_path)


@pytest.fixture
def seeded(tmp_path: Path) -> Path:
    """The server's database holds the config of a Triton cache measured for this kernel."""
    cache_file = tmp_path / "add_one.autotune.json"
    cache_file.write_text(json.dumps(TRITON_CACHE))
    done = _tuneforge(tmp_path, "autotune", "import-triton", str(cache_file), "--kernel", "autotuned_kernel:add_one",
                      "--device", INTERPRETER)
    assert done.returncode == 0, done.stderr
    return tmp_path


@pytest.fixture
def server(seeded: Path):
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "tuneforge", "serve", "--host", "127.0.0.1", "--port", str(port)],
                            env=_env(seeded), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                break
        except httpx.TransportError:
            time.sleep(0.2)
    else:
        proc.kill()
        pytest.fail(f"the server did not start: {proc.stderr.read()[-2000:]}")
    yield url, proc
    if proc.poll() is None:
        proc.terminate()
        proc.wait(timeout=30)


def _block(answer: dict) -> int:
    return answer["config"]["BLOCK"]


@pytest.mark.slow
def test_server_then_local_cache_then_local_benchmark(server, tmp_path: Path) -> None:
    url, proc = server
    first = _run_kernel(tmp_path, "cache-a", AUTOTUNE_SOURCE=url, AUTOTUNE_TIMED="1")
    assert (_block(first), first["benchmarked"]) == (1024, 0)
    assert first["origin"] == f"server {url}" and first["provenance"] == "measured"
    assert first["key"]["bucket"] == "n=1024,dtypes=torch.float32,torch.float32"

    proc.terminate()
    proc.wait(timeout=30)
    again = _run_kernel(tmp_path, "cache-a", AUTOTUNE_SOURCE=url, AUTOTUNE_TIMED="1")
    assert (_block(again), again["benchmarked"]) == (1024, 0) and again["origin"].startswith("local cache")

    # Nothing stored anywhere (fresh cache, server down): benchmarks here, as Triton would.
    alone = _run_kernel(tmp_path, "cache-b", AUTOTUNE_SOURCE=url, AUTOTUNE_TIMED="1")
    assert alone["benchmarked"] == 3 and alone["origin"] == "benchmarked here"


@pytest.mark.slow
def test_offline_mode_never_benchmarks_or_connects(seeded: Path) -> None:
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    listener.setblocking(False)
    trap = f"http://127.0.0.1:{listener.getsockname()[1]}"
    try:
        bare = _run_kernel(seeded, "cache-r", AUTOTUNE_SOURCE=trap, AUTOTUNE_TIMED="1",
                           TUNEFORGE_AUTOTUNE_OFFLINE="1")
        with pytest.raises(BlockingIOError):
            listener.accept()  # nobody connected
    finally:
        listener.close()
    assert (_block(bare), bare["benchmarked"], bare["provenance"]) == (16, 0, "untimed")

    # A release build reads the exported autotune file instead.
    exported = seeded / "release" / "autotune.jsonl"
    done = _tuneforge(seeded, "autotune", "export", "-o", str(exported))
    assert done.returncode == 0 and "1 autotune config" in done.stderr, done.stderr
    shipped = _run_kernel(seeded, "cache-s", AUTOTUNE_SOURCE=str(exported), AUTOTUNE_TIMED="1",
                          TUNEFORGE_AUTOTUNE_OFFLINE="1")
    assert (_block(shipped), shipped["benchmarked"]) == (1024, 0) and shipped["origin"].startswith("file ")
    record = json.loads(exported.read_text())
    assert record["origin"]["format"] == "triton-autotune-cache" and record["origin"]["configs_timed"] == 3


@pytest.mark.slow
def test_two_processes_benchmarking_alone_pick_the_same_config(tmp_path: Path) -> None:
    env = [_env(tmp_path, TUNEFORGE_AUTOTUNE_CACHE=str(tmp_path / f"rank{i}"), AUTOTUNE_TIMED="1") for i in (0, 1)]
    procs = [subprocess.Popen([sys.executable, str(SCRIPT)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True, env=e) for e in env]
    answers = []
    for proc in procs:
        stdout, stderr = proc.communicate(timeout=120)
        assert proc.returncode == 0, stderr
        answers.append(json.loads(stdout.strip().splitlines()[-1]))
    assert all(a["benchmarked"] == 3 and a["origin"] == "benchmarked here" for a in answers)
    # Each picked the first config, in list order, within the tie tolerance of its own fastest; the
    # one-program blocks (2048, then 1024) tie, the 16-wide block does not.
    blocks = [16, 2048, 1024]
    for answer in answers:
        assert _block(answer) == blocks[choose(answer["timings"], 0.5)]
    assert _block(answers[0]) == _block(answers[1]) == 2048, [a["timings"] for a in answers]


def test_choice_is_the_first_within_tolerance_in_list_order() -> None:
    assert choose([3.0, 1.01, 1.0], 0.02) == 1
    assert choose([3.0, 1.05, 1.0], 0.02) == 2
    assert choose([float("inf"), float("nan"), 2.0], 0.0) == 2
    assert choose([float("inf"), float("inf")], 0.02) == 0


def test_import_rejects_a_file_that_is_not_a_triton_cache(tmp_path: Path) -> None:
    bad = tmp_path / "x.autotune.json"
    bad.write_text(json.dumps({"key": [1]}))
    done = _tuneforge(tmp_path, "autotune", "import-triton", str(bad), "--kernel", "autotuned_kernel:add_one",
                      "--device", INTERPRETER)
    assert done.returncode != 0 and "is not a Triton autotune cache file" in done.stderr + done.stdout
    listed = subprocess.run([sys.executable, "-c", "from tuneforge.db.autotune_store import list_autotune_configs; "
                             f"print(len(list_autotune_configs('sqlite:///{tmp_path / 'server.db'}')))"],
                            capture_output=True, text=True, check=True)
    assert listed.stdout.strip() == "0"


def test_malformed_cache_entries_and_server_answers_are_misses(tmp_path: Path) -> None:
    key = LookupKey("k" * 64, "n=1024", INTERPRETER, "3.7.1")
    cache = LocalCache(tmp_path)
    cache.put(key, StoredConfig({"BLOCK": 64}, 1.0, "measured"))
    assert cache.get(key).config == {"BLOCK": 64}
    path = tmp_path / f"{key.kernel}.json"
    entries = json.loads(path.read_text())
    entries[key.text]["config"] = "BLOCK=64"  # not an object
    path.write_text(json.dumps(entries))
    assert cache.get(key) is None
    path.write_text("{ truncated")
    assert cache.get(key) is None

    # A server that answers 200 with something else than a record.
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        port = sock.getsockname()[1]
        def answer() -> None:
            conn, _ = sock.accept()
            conn.recv(65536)
            body = b'["not", "a", "record"]'
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: "
                         + str(len(body)).encode() + b"\r\nConnection: close\r\n\r\n" + body)
            conn.close()

        thread = threading.Thread(target=answer)
        thread.start()
        assert ServerSource(f"http://127.0.0.1:{port}").get(key) is None
        thread.join(timeout=10)
