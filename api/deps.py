"""What routes share: the settings and the store of the running app."""

from __future__ import annotations

from fastapi import Request

from tuneforge.core.settings import Settings
from tuneforge.db.store import JobStore


def settings_of(request: Request) -> Settings:
    return request.app.state.settings


def store_of(request: Request) -> JobStore:
    return request.app.state.store
