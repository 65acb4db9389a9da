"""Reading the guardian content files (YAML, both languages) from data/content/."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from bot.config import ROOT

CONTENT_DIR = ROOT / "data" / "content"
CAREGIVING_DIR = CONTENT_DIR / "caregiving"
LANGUAGES = ("zh", "en")


@lru_cache(maxsize=None)
def load_yaml(path: Path) -> dict[str, Any]:
    """A content file, cached: content changes need an action-server restart."""
    with Path(path).open(encoding="utf-8") as handle:
        return yaml.safe_load(handle) or {}


def text_in(variants: Any, lang: str) -> str:
    """`{zh: ..., en: ...}` -> the text in `lang`, Chinese when that language is missing."""
    if isinstance(variants, str):
        return variants
    return variants.get(lang) or variants["zh"]


def lang_or_default(lang: str | None) -> str:
    return lang if lang in LANGUAGES else "zh"
