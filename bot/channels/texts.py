"""Bilingual channel texts, loaded from ``texts.json`` (zh first, en second)."""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

LANGUAGES = ("zh", "en")
DEFAULT_LANGUAGE = "zh"


@lru_cache(maxsize=1)
def _texts() -> dict[str, dict[str, str]]:
    data = json.loads((Path(__file__).with_name("texts.json")).read_text(encoding="utf-8"))
    return {key: value for key, value in data.items() if not key.startswith("_")}


def text(key: str, language: str | None) -> str:
    """The text for ``key`` in ``language`` (falls back to Chinese, the product's default)."""
    entry = _texts()[key]
    return entry.get(language or DEFAULT_LANGUAGE) or entry[DEFAULT_LANGUAGE]


def keys() -> list[str]:
    return list(_texts())


def language_from_code(language_code: str | None) -> str | None:
    """Telegram's IETF ``language_code`` ("zh-hans", "en-US") → "zh" | "en" | None."""
    if not language_code:
        return None
    base = language_code.lower().split("-")[0].split("_")[0]
    return base if base in LANGUAGES else None


def language_of_text(message: str | None) -> str | None:
    """The language a text is written in, using the NLU detector when it is importable."""
    if not message:
        return None
    try:
        from bot.nlu.language import detect_language
    except Exception:  # the NLU package is optional here: fall back to "has CJK or not"
        return _rough_language(message)
    return detect_language(message)


def _rough_language(message: str) -> str | None:
    if any("\u4e00" <= ch <= "\u9fff" for ch in message):
        return "zh"
    if any(ch.isascii() and ch.isalpha() for ch in message):
        return "en"
    return None
