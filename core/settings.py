"""The one object that reads the environment (prefix ``TUNEFORGE_``).

Everything else in tuneforge takes keyword arguments; only entry points (CLI,
API app factory, Celery app) call :func:`get_settings`.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from platformdirs import user_data_dir
from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

REPO_ROOT = Path(__file__).resolve().parent.parent


def _default_database_url() -> str:
    return f"sqlite:///{Path(user_data_dir('tuneforge')) / 'tuneforge.db'}"


def _default_spaces_dir() -> Path:
    # A checkout keeps the measured tuning spaces beside it in ../shared/data/tuning-spaces.
    return REPO_ROOT.parent / "shared" / "data" / "tuning-spaces"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="TUNEFORGE_", extra="ignore")

    database_url: str = Field(default_factory=_default_database_url,
                              description="SQLAlchemy URL; SQLite file by default, postgresql://... in distributed mode")
    broker_url: str | None = Field(default=None, description="Celery broker (redis://...); unset = embedded mode")
    visibility_timeout_s: int = Field(default=3600, ge=5,
                                      description="seconds before an unacknowledged task is redelivered; "
                                                  "must exceed the longest evaluation")
    lease_s: float = Field(default=30.0, gt=0,
                           description="a job whose worker stopped heart-beating this long is taken over")
    eval_timeout_s: float = Field(default=600.0, gt=0, description="wall-clock limit of one candidate evaluation")
    embedded_workers: int = Field(default=2, ge=1, description="processes evaluating candidates in embedded mode")
    scheduler_jobs: int = Field(default=64, ge=1,
                                description="job loops one `tuneforge scheduler` runs at once (distributed mode); "
                                            "loops only wait on results, so this does not take evaluation slots")
    worker_heartbeat_s: float = Field(default=10.0, gt=0,
                                      description="how often a worker records that it is alive; a worker silent "
                                                  "for 3 beats no longer counts as serving its queues")
    max_trials: int = Field(default=100_000, ge=1, description="largest trial budget a job may ask for")
    max_seconds: float = Field(default=7 * 24 * 3600, gt=0, description="largest time budget a job may ask for")
    spaces_dir: Path = Field(default_factory=_default_spaces_dir, description="where measured tuning spaces live")
    replay_sleep_scale: float = Field(default=0.0, ge=0,
                                      description="replay devices sleep this fraction of the recorded compile + "
                                                  "benchmark time, to rehearse real wall-clock behaviour")
    api_host: str = "127.0.0.1"
    api_port: int = 8000
    trusted_hosts: list[str] = Field(default=["localhost", "127.0.0.1", "[::1]"],
                                     description="Host headers the API answers (others get 400: DNS rebinding); "
                                                 "add the server's public name when serving beyond loopback")
    session_secret: str | None = Field(default=None, description="signs dashboard sign-in cookies; unset = a "
                                                                 "random secret per process (sign in again after "
                                                                 "a restart)")
    max_parallelism: int = Field(default=64, ge=1, le=1024, description="most candidates a job evaluates at once")
    replay_dirs: list[Path] = Field(default=[], description="directories besides spaces_dir whose Kernel Tuner "
                                                             "cache files replay:NAME may open")
    replay_max_bytes: int = Field(default=64 * 2**20, ge=1, description="largest replay file, compressed and not")
    device_cache_size: int = Field(default=64, ge=1, description="devices kept resolved in memory (LRU)")
    quota_active_jobs: int = Field(default=20, ge=1, description="queued + running jobs per account")
    quota_trials_per_day: int = Field(default=200_000, ge=1, description="trial budget submitted per account per day")
    quota_device_seconds_per_day: float = Field(default=7 * 24 * 3600.0, gt=0,
                                                description="device-seconds budget submitted per account per day")
    quota_requests_per_minute: int = Field(default=6000, ge=1, description="requests per key (or client address "
                                                                           "when open) per minute")
    max_body_bytes: int = Field(default=64 * 1024, ge=1024, description="largest request body")
    max_streams_per_key: int = Field(default=8, ge=1, description="live event streams open at once per key")
    llm_base_url: str | None = Field(default=None, description="OpenAI-compatible endpoint, ending in /v1")
    llm_model: str | None = None
    llm_api_key: str | None = None

    @property
    def distributed(self) -> bool:
        return bool(self.broker_url)


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()


def reset_settings_cache() -> None:
    """For entry points and tests that change the environment after start-up."""
    get_settings.cache_clear()
