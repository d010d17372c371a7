"""Getting JSON and Python code out of model replies that wrap them in prose, fences or reasoning."""

from __future__ import annotations

import ast
import json
import re
from typing import Any

FENCE = re.compile(r"```([A-Za-z0-9_+-]*)[ \t]*\n(.*?)```", re.DOTALL)
THINK = re.compile(r"<think>.*?</think>", re.DOTALL)
TRAILING_COMMA = re.compile(r",(\s*[}\]])")


def strip_reasoning(text: str) -> str:
    return THINK.sub("", text).strip()


def parse_json(text: str) -> Any:
    """The first JSON value in ``text``: the whole reply, a fenced block, or an embedded object/array."""
    text = strip_reasoning(text)
    candidates = [text] + [body for _, body in FENCE.findall(text)]
    for candidate in candidates:
        for variant in (candidate, TRAILING_COMMA.sub(r"\1", candidate)):
            try:
                return json.loads(variant)
            except ValueError:
                pass
    decoder = json.JSONDecoder()
    for variant in (text, TRAILING_COMMA.sub(r"\1", text)):
        for match in re.finditer(r"[{\[]", variant):
            try:
                return decoder.raw_decode(variant, match.start())[0]
            except ValueError:
                continue
    raise ValueError("the reply contains no JSON object")


def extract_python(text: str, *, defines: str) -> str:
    """The last fenced Python block that parses and defines ``defines`` (drafts come before finals);
    failing that, the last Python block, or the whole reply when it has no fences."""
    text = strip_reasoning(text)
    blocks = [body for lang, body in FENCE.findall(text) if lang.lower() in ("", "python", "py")]
    for body in reversed(blocks):
        try:
            tree = ast.parse(body)
        except SyntaxError:
            continue
        if any(isinstance(n, ast.FunctionDef) and n.name == defines for n in tree.body):
            return body
    if blocks:
        return blocks[-1]
    if "def " in text:
        return text
    raise ValueError("the reply contains no Python code block")


def first_line_after(text: str, label: str) -> str | None:
    """The rest of the first line starting with ``label`` (e.g. ``IDEA:``)."""
    for line in strip_reasoning(text).splitlines():
        if line.strip().upper().startswith(label.upper()):
            return line.strip()[len(label):].strip()
    return None
