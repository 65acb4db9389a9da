"""Helpers every action module shares: the user's language, content files, the database.

Actions stay thin: they read slots, call into `bot/`, and pick text from `data/content/`.
Service clients are constructor arguments with defaults from the environment, so tests can
hand in a database of their own.
"""

from __future__ import annotations

import random
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import Any, Iterator, Optional

import yaml
from rasa_sdk import Tracker
from sqlalchemy.orm import Session

from bot.config import ROOT
from bot.db.session import session_scope

CONTENT_DIR = ROOT / "data" / "content"
LANGUAGES = ("zh", "en")


def language_of(tracker: Tracker) -> str:
    value = tracker.get_slot("language")
    return value if value in LANGUAGES else "zh"


@lru_cache(maxsize=None)
def load_content(relative_path: str) -> dict[str, Any]:
    """A YAML content file under data/content/ (cached: content changes need a restart)."""
    path = CONTENT_DIR / relative_path
    with Path(path).open(encoding="utf-8") as handle:
        return yaml.safe_load(handle) or {}


def pick(
    variants: Any, lang: str, avoid: Optional[str] = None, rng: random.Random | None = None
) -> str:
    """One text in `lang` from `{zh: str|[str], en: str|[str]}`; not `avoid` if another exists."""
    texts = (variants.get(lang) or variants.get("zh")) if isinstance(variants, dict) else variants
    if isinstance(texts, str):
        return texts
    options = [t for t in texts if t != avoid] or list(texts)
    return (rng or random).choice(options)


def buttons(items: list[dict[str, Any]], lang: str) -> list[dict[str, str]]:
    """Buttons from content entries `{title: {zh, en}, payload}`."""
    return [{"title": item["title"][lang], "payload": item["payload"]} for item in items]


class Database:
    """Our database, for actions. Tests pass `Database(url)` for a database of their own."""

    def __init__(self, url: Optional[str] = None) -> None:
        self.url = url

    @contextmanager
    def session(self) -> Iterator[Session]:
        with session_scope(self.url) as session:
            yield session
