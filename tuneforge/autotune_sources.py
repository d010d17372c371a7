"""Where ``tuneforge.autotune`` finds a stored config: the local cache, an exported file, a server.

Every source answers the same record for a :class:`LookupKey`; the local cache is also where the
runtime writes what it benchmarked. Light: no torch or triton.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tuneforge.autotune_keys import LookupKey
from tuneforge.core.file_lock import file_lock

log = logging.getLogger("tuneforge.autotune")


@dataclass(frozen=True)
class StoredConfig:
    """A chosen config: ``config`` holds every launch keyword (``triton.Config.all_kwargs()``)."""

    config: dict[str, Any]
    time_ms: float | None  # None when nothing was timed (the interpreter, or a fallback)
    provenance: str  # "measured", "imported", "untimed"
    origin: str = ""  # where this answer came from, for logs

    def to_record(self, key: LookupKey) -> dict[str, Any]:
        return {**key.to_dict(), "config": self.config, "time_ms": self.time_ms, "provenance": self.provenance}

    @classmethod
    def from_record(cls, record: dict[str, Any], origin: str) -> StoredConfig:
        if not isinstance(record.get("config"), dict):
            raise ValueError(f"a stored autotune record needs a 'config' object, got {record.get('config')!r}")
        return cls(dict(record["config"]), record.get("time_ms"), str(record.get("provenance", "imported")), origin)


def default_cache_dir() -> Path:
    if os.environ.get("TUNEFORGE_AUTOTUNE_CACHE"):
        return Path(os.environ["TUNEFORGE_AUTOTUNE_CACHE"])
    from platformdirs import user_cache_dir

    return Path(user_cache_dir("tuneforge")) / "autotune"


class LocalCache:
    """One JSON file per kernel hash; writes are locked and atomic, so ranks on one host can share it."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def _path(self, key: LookupKey) -> Path:
        return self.root / f"{key.kernel}.json"

    def _read(self, path: Path) -> dict[str, Any]:
        try:
            return json.loads(path.read_text())
        except FileNotFoundError:
            return {}
        except (OSError, ValueError) as exc:
            log.warning("ignoring unreadable autotune cache %s (%s)", path, exc)
            return {}

    def get(self, key: LookupKey) -> StoredConfig | None:
        record = self._read(self._path(key)).get(key.text)
        if not record:
            return None
        try:
            return StoredConfig.from_record(record, f"local cache {self.root}")
        except (ValueError, TypeError, AttributeError) as exc:
            log.warning("ignoring a malformed entry of the autotune cache %s (%s)", self._path(key), exc)
            return None

    def put(self, key: LookupKey, stored: StoredConfig) -> None:
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        with file_lock(path.with_suffix(".lock")):
            entries = self._read(path)
            entries[key.text] = stored.to_record(key)
            fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
            with os.fdopen(fd, "w") as handle:
                json.dump(entries, handle, indent=1, sort_keys=True)
            os.replace(tmp, path)


class FileSource:
    """An exported autotune file: JSON lines, one record per (kernel, bucket, device, Triton version)."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._records: dict[tuple, dict[str, Any]] | None = None

    def get(self, key: LookupKey) -> StoredConfig | None:
        if self._records is None:
            self._records = {}
            for number, line in enumerate(self.path.read_text().splitlines(), 1):
                if line.strip():
                    try:
                        record = json.loads(line)
                        self._records[(record["kernel"], record["bucket"], record["device"], record["triton"])] = record
                    except (ValueError, KeyError, TypeError) as exc:
                        raise ValueError(f"{self.path}:{number}: not an autotune record ({exc})") from exc
        record = self._records.get((key.kernel, key.bucket, key.device, key.triton))
        return StoredConfig.from_record(record, f"file {self.path}") if record else None


class ServerSource:
    """A tuneforge server's read-only lookup route; an unreachable server is a miss, never an error."""

    def __init__(self, url: str, api_key: str | None = None, timeout_s: float = 5.0) -> None:
        self.url = url.rstrip("/")
        self.api_key = api_key
        self.timeout_s = timeout_s

    def get(self, key: LookupKey) -> StoredConfig | None:
        import httpx

        headers = {"Authorization": f"Bearer {self.api_key}"} if self.api_key else {}
        try:
            response = httpx.get(f"{self.url}/api/v1/autotune/configs", params=key.to_dict(), headers=headers,
                                 timeout=self.timeout_s)
        except httpx.TransportError as exc:
            log.warning("tuneforge server %s unreachable (%s); benchmarking locally", self.url, exc)
            return None
        if response.status_code == 404:
            return None
        if response.status_code >= 400:
            log.warning("tuneforge server %s answered %s: %s", self.url, response.status_code, response.text[:200])
            return None
        try:
            return StoredConfig.from_record(response.json(), f"server {self.url}")
        except (ValueError, TypeError, AttributeError) as exc:
            log.warning("tuneforge server %s sent an unusable answer (%s); benchmarking locally", self.url, exc)
            return None


Source = FileSource | ServerSource


def parse_sources(spec: str | Path | list[str | Path] | None, api_key: str | None) -> list[Source]:
    """``http(s)://...`` is a server, anything else an exported file; TUNEFORGE_AUTOTUNE_SOURCE
    (comma-separated) is used when the decorator names none."""
    if spec is None:
        env = os.environ.get("TUNEFORGE_AUTOTUNE_SOURCE", "")
        spec = [s.strip() for s in env.split(",") if s.strip()]
    items = spec if isinstance(spec, list) else [spec]
    key = api_key or os.environ.get("TUNEFORGE_API_KEY")
    return [ServerSource(str(s), key) if str(s).startswith(("http://", "https://")) else FileSource(Path(s))
            for s in items]


def choose(timings: list[float], tie_tolerance: float) -> int:
    """The first config, in the list's own order, within ``tie_tolerance`` of the fastest: ranks whose
    timings differ by noise still agree."""
    finite = [t for t in timings if t == t and t != float("inf")]
    if not finite:
        return 0
    bound = min(finite) * (1.0 + tie_tolerance)
    return next(i for i, t in enumerate(timings) if t <= bound)

