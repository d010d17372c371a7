"""A bounded load test of the REST API on loopback: N clients for S seconds, reads and submits mixed.
It starts its own ``tuneforge serve`` on a fresh database with a fresh key, and stops it at the end."""

from __future__ import annotations

import asyncio
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

READS = ["/api/v1/jobs?limit=20", "/api/v1/leaderboard", "/api/v1/targets", "/healthz"]


@dataclass
class Tally:
    latencies_ms: dict[str, list[float]] = field(default_factory=dict)
    statuses: dict[int, int] = field(default_factory=dict)
    transport_errors: int = 0

    def add(self, kind: str, status: int, ms: float) -> None:
        self.latencies_ms.setdefault(kind, []).append(ms)
        self.statuses[status] = self.statuses.get(status, 0) + 1

    @property
    def total(self) -> int:
        return sum(self.statuses.values()) + self.transport_errors

    @property
    def errors(self) -> int:
        return self.transport_errors + sum(n for s, n in self.statuses.items() if s >= 500 or s in (400, 401, 403, 404, 422))


def percentile(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1] if len(values) > 1 else values[0]


async def _client(url: str, key: str, deadline: float, submit_share: float, tally: Tally, seed: int) -> None:
    rng = random.Random(seed)
    async with httpx.AsyncClient(base_url=url, headers={"Authorization": f"Bearer {key}"}, timeout=30) as client:
        while time.monotonic() < deadline:
            submit = rng.random() < submit_share
            started = time.perf_counter()
            try:
                if submit:
                    response = await client.post("/api/v1/jobs", json={"device": "replay:gemm_RTX_3090", "trials": 2,
                                                                       "strategy": "random", "seed": rng.randrange(1000)})
                else:
                    response = await client.get(rng.choice(READS))
            except httpx.TransportError:
                tally.transport_errors += 1
                continue
            tally.add("submit" if submit else "read", response.status_code, (time.perf_counter() - started) * 1000)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def run_load(clients: int, seconds: float, submit_share: float, spaces_dir: Path) -> tuple[Tally, float]:
    with tempfile.TemporaryDirectory() as tmp:
        port = _free_port()
        env = {**os.environ, "TUNEFORGE_DATABASE_URL": f"sqlite:///{tmp}/bench.db",
               "TUNEFORGE_SPACES_DIR": str(spaces_dir), "TUNEFORGE_QUOTA_ACTIVE_JOBS": "1000000",
               "TUNEFORGE_QUOTA_REQUESTS_PER_MINUTE": "100000000", "TUNEFORGE_QUOTA_TRIALS_PER_DAY": "1000000000"}
        env.pop("TUNEFORGE_BROKER_URL", None)
        made = subprocess.run([sys.executable, "-m", "tuneforge", "keys", "create", "bench", "--json"], env=env,
                              capture_output=True, text=True, check=True)
        key = made.stdout.split('"key": "')[1].split('"')[0]
        server = subprocess.Popen([sys.executable, "-m", "tuneforge", "serve", "--host", "127.0.0.1", "--port",
                                   str(port)], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        url = f"http://127.0.0.1:{port}"
        try:
            _wait_up(url, key)
            tally = Tally()
            deadline = time.monotonic() + seconds
            started = time.monotonic()
            asyncio.run(_all(url, key, clients, deadline, submit_share, tally))
            return tally, time.monotonic() - started
        finally:
            server.terminate()
            try:
                server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()


async def _all(url: str, key: str, clients: int, deadline: float, submit_share: float, tally: Tally) -> None:
    await asyncio.gather(*(_client(url, key, deadline, submit_share, tally, seed) for seed in range(clients)))


def _wait_up(url: str, key: str) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            headers = {"Authorization": f"Bearer {key}"}
            if httpx.get(f"{url}/api/v1/targets", headers=headers).status_code == 200:
                # First use imports the search stack and loads the replay file: not part of the figures.
                httpx.post(f"{url}/api/v1/jobs", headers=headers, timeout=120,
                           json={"device": "replay:gemm_RTX_3090", "trials": 2, "strategy": "random"})
                return
        except httpx.TransportError:
            pass
        time.sleep(0.3)
    raise RuntimeError("the server did not start within 120 s")
