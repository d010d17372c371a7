"""A small REST client for ``tuneforge submit``."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import httpx

from tuneforge.core.errors import UserInputError


def auth_headers(key: str | None) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"} if key else {}


def post_job(url: str, request: dict[str, Any], key: str | None = None) -> str:
    try:
        response = httpx.post(f"{url}/api/v1/jobs", json=request, timeout=30, headers=auth_headers(key))
    except httpx.TransportError as exc:
        raise UserInputError(f"cannot reach the server at {url} ({exc}); start it with `tuneforge serve` "
                             "or pass --url") from exc
    if response.status_code >= 400:
        raise UserInputError(response.json().get("detail", response.text))
    return response.json()["id"]


def follow_job(url: str, job_id: str, on_progress: Callable[[dict[str, Any]], None],
               key: str | None = None) -> dict[str, Any]:
    """Follow the job's server-sent events until it ends; returns the finished job."""
    headers = auth_headers(key)
    with httpx.stream("GET", f"{url}/api/v1/jobs/{job_id}/events", timeout=None, headers=headers) as response:
        event = None
        for line in response.iter_lines():
            if line.startswith("event: "):
                event = line.removeprefix("event: ")
            elif line.startswith("data: ") and event == "progress":
                on_progress(json.loads(line.removeprefix("data: ")))
            elif line.startswith("data: ") and event == "end":
                break
    return httpx.get(f"{url}/api/v1/jobs/{job_id}", timeout=30, headers=headers).json()
