"""A real server: uvicorn on a free loopback port in a thread, over a temp SQLite database, with keys of
two accounts and an admin. Requests go over real HTTP with httpx."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest

from tuneforge.api.app import create_app
from tuneforge.core.settings import Settings
from tuneforge.db.accounts import KeyStore
from tuneforge.db.session import ensure_schema
from tests.conftest import SPACES_DIR, free_port, serve_in_thread

GEMM = "replay:gemm_RTX_3090"


@dataclass
class Server:
    url: str
    settings: Settings
    keys: dict[str, str]  # key name -> key

    def client(self, key: str | None = None, **kwargs) -> httpx.Client:
        headers = {"Authorization": f"Bearer {self.keys[key]}"} if key else {}
        return httpx.Client(base_url=self.url, headers=headers, timeout=30, **kwargs)


def serve(settings: Settings, *, allow_open: bool = True) -> Iterator[str]:
    port = free_port()
    settings = settings.model_copy(update={"api_port": port})
    with serve_in_thread(create_app(settings, run_jobs=False, allow_open=allow_open), port, "api-test-server") as url:
        yield url


def make_settings(tmp_path, **overrides) -> Settings:
    return Settings(database_url=f"sqlite:///{tmp_path / 'api.db'}", broker_url=None, spaces_dir=SPACES_DIR,
                    embedded_workers=1, trusted_hosts=["127.0.0.1", "localhost"], **overrides)


def with_keys(settings: Settings) -> dict[str, str]:
    ensure_schema(settings.database_url)
    store = KeyStore(settings.database_url)
    made = {}
    for name, account, scopes in [("alice", "alice", ("read", "submit", "cancel")),
                                  ("alice-ro", "alice", ("read",)), ("bob", "bob", ("read", "submit", "cancel")),
                                  ("root", "ops", ("admin",))]:
        made[name] = store.create(name, account, scopes)[1]
    return made


@pytest.fixture(scope="module")
def server(tmp_path_factory) -> Iterator[Server]:
    settings = make_settings(tmp_path_factory.mktemp("api"), quota_active_jobs=4, device_cache_size=6,
                             max_streams_per_key=1, max_parallelism=16, session_secret="test-secret")
    keys = with_keys(settings)
    for url in serve(settings):
        yield Server(url, settings, keys)
