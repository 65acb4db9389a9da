"""The services directory: who can help a guardian, and when (data/content/services.yml)."""

from __future__ import annotations

import re
from typing import Any

from bot.guardian.content import CONTENT_DIR, load_yaml, text_in

SERVICES_FILE = CONTENT_DIR / "services.yml"
_PLACEHOLDER = re.compile(r"\{service:([a-z0-9_]+)\}")


def directory() -> dict[str, dict[str, Any]]:
    return load_yaml(SERVICES_FILE)["services"]


def describe(key: str, lang: str) -> str:
    """One service as a chat bubble: what it is and when to use it."""
    return text_in(directory()[key]["text"], lang)


def render(text: str, lang: str) -> str:
    """Replace `{service:<key>}` with that entry, so numbers are written in one place only."""
    return _PLACEHOLDER.sub(lambda m: describe(m.group(1), lang), text)


def referenced(text: str) -> list[str]:
    return _PLACEHOLDER.findall(text)
