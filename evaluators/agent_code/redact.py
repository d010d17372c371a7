"""Messages from the sandbox go to users and to the LLM: strip what they must never carry."""

from __future__ import annotations

import os
import re

_PATH = re.compile(r"(?<![\w.])/(?:[\w.+@-]+/)*[\w.+@-]+")
_MIN_SECRET = 6


def redact(text: str, *, scratch: str | None = None) -> str:
    """No value of this process's environment, no absolute path (the scratch directory is shown
    as ``<scratch>``, anything else as ``<path>``)."""
    for value in sorted({v for v in os.environ.values() if len(v) >= _MIN_SECRET}, key=len, reverse=True):
        text = text.replace(value, "<redacted>")
    if scratch:
        text = text.replace(scratch, "<scratch>")
    return _PATH.sub("<path>", text)
