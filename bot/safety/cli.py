"""JSON-lines CLI: `python -m bot.safety` (contract used by evaluation tools).

stdin:  {"text": "...", "role": "child"|"guardian"} per line
stdout: {"escalate", "category", "severity", "evidence"} per line, in order,
        flushed per line; a malformed line gets the same shape plus "error".
"""

from __future__ import annotations

import json
import os
import sys
from typing import IO, Any

from .detector import detect, warmup

ROLES = ("child", "guardian")


def _error(msg: str) -> dict[str, Any]:
    return {"escalate": False, "category": None, "severity": None, "evidence": [], "error": msg}


def handle_line(line: str) -> dict[str, Any]:
    try:
        obj = json.loads(line)
    except (ValueError, RecursionError) as e:
        return _error(f"invalid JSON: {str(e)[:80]}")
    if isinstance(obj, str):  # a bare string is still a message
        obj = {"text": obj}
    if not isinstance(obj, dict):
        return _error("expected a JSON object")
    text = obj.get("text")
    if not isinstance(text, str):
        return _error('missing string field "text"')
    role = obj.get("role")
    return detect(text, role if role in ROLES else None).to_cli_dict()


def run(stdin: IO[bytes], stdout: IO[bytes]) -> int:
    warmup()
    for raw in iter(stdin.readline, b""):
        line = raw.decode("utf-8", "replace").strip()
        if not line:
            continue
        try:
            out = handle_line(line)
        except Exception as e:  # pragma: no cover - never stop the stream
            out = _error(f"internal: {type(e).__name__}")
        stdout.write(json.dumps(out, ensure_ascii=False).encode("utf-8") + b"\n")
        stdout.flush()
    return 0


def main() -> int:
    try:
        return run(sys.stdin.buffer, sys.stdout.buffer)
    except BrokenPipeError:
        # the reader went away (`| head`): stop quietly, as Python's docs advise
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
