"""Reads and writes of the configs ``tuneforge.autotune`` looks up. Every write is one transaction."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from tuneforge.db.models import AutotuneConfig, utcnow
from tuneforge.db.session import session_scope

KEY_FIELDS = ("kernel", "bucket", "device", "triton")


def _to_dict(row: AutotuneConfig) -> dict[str, Any]:
    data = {c.name: getattr(row, c.name) for c in AutotuneConfig.__table__.columns if c.name != "id"}
    data["updated_at"] = row.updated_at.isoformat()
    return data


def put_autotune_configs(url: str, records: list[dict[str, Any]]) -> int:
    """Insert or replace by key; all records or none. Returns how many were written."""
    with session_scope(url) as session:
        for record in records:
            where = [getattr(AutotuneConfig, f) == record[f] for f in KEY_FIELDS]
            row = session.scalars(select(AutotuneConfig).where(*where)).one_or_none()
            if row is None:
                row = AutotuneConfig(**{f: record[f] for f in KEY_FIELDS})
                session.add(row)
            row.kernel_name = record["kernel_name"]
            row.config = record["config"]
            row.time_ms = record.get("time_ms")
            row.provenance = record["provenance"]
            row.origin = record["origin"]
            row.updated_at = utcnow()
    return len(records)


def get_autotune_config(url: str, *, kernel: str, bucket: str, device: str, triton: str) -> dict[str, Any] | None:
    with session_scope(url) as session:
        row = session.scalars(select(AutotuneConfig).where(
            AutotuneConfig.kernel == kernel, AutotuneConfig.bucket == bucket, AutotuneConfig.device == device,
            AutotuneConfig.triton == triton)).one_or_none()
        return _to_dict(row) if row is not None else None


def list_autotune_configs(url: str, *, kernel: str | None = None) -> list[dict[str, Any]]:
    with session_scope(url) as session:
        query = select(AutotuneConfig).order_by(AutotuneConfig.kernel, AutotuneConfig.bucket, AutotuneConfig.device)
        if kernel is not None:
            query = query.where(AutotuneConfig.kernel == kernel)
        return [_to_dict(row) for row in session.scalars(query)]
