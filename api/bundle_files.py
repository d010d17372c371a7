"""Reading a kernel bundle from disk for ``tuneforge tune/submit --bundle``: a JSON file holding the whole
document, or a folder with ``bundle.json`` (the data) beside ``kernel.py`` and ``reference.py``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tuneforge.core.errors import UserInputError

MAX_FILE_BYTES = 1 << 20
SOURCES = {"kernel": "kernel.py", "reference": "reference.py"}


def _read(path: Path) -> str:
    if not path.is_file():
        raise UserInputError(f"--bundle: {path} is not a file")
    if path.stat().st_size > MAX_FILE_BYTES:
        raise UserInputError(f"--bundle: {path} is larger than {MAX_FILE_BYTES} bytes")
    return path.read_text()


def read_bundle(path: str) -> dict[str, Any]:
    """The bundle document at ``path`` (validated later, where every job is)."""
    where = Path(path)
    folder = where.is_dir()
    text = _read(where / "bundle.json" if folder else where)
    try:
        document = json.loads(text)
    except ValueError as exc:
        raise UserInputError(f"--bundle: {where} is not JSON: {exc}") from None
    if not isinstance(document, dict):
        raise UserInputError(f"--bundle: {where} must hold a JSON object")
    if folder:
        for field, name in SOURCES.items():
            if field in document:
                raise UserInputError(f"--bundle: {where / 'bundle.json'} gives {field}; in a folder it is {name}")
            document[field] = _read(where / name)
    return document
