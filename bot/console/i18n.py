"""The console's words live in `messages.json` ({key: {"zh": …, "en": …}}), not in code.

Simplified Chinese is the default; a `lang` cookie switches to English. A missing key shows
the key itself (never a crash), and a test checks that every key used exists in both languages.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path
from typing import Any

from aiohttp import web

LANGS = ("zh", "en")
DEFAULT_LANG = "zh"
LANG_COOKIE = "lang"
CATALOGUE_FILE = Path(__file__).with_name("messages.json")
OPEN_FAMILIES = {"category", "outcome", "event", "who", "run", "severity", "status", "kind"}


@lru_cache(maxsize=1)
def catalogue() -> dict[str, dict[str, str]]:
    with CATALOGUE_FILE.open(encoding="utf-8") as handle:
        return json.load(handle)


def request_lang(request: web.Request) -> str:
    lang = request.cookies.get(LANG_COOKIE, DEFAULT_LANG)
    return lang if lang in LANGS else DEFAULT_LANG


def translate(lang: str, key: str, **values: Any) -> str:
    entry = catalogue().get(key)
    if entry is None:
        # Open families (category_…, outcome_…) may meet values other teams add later:
        # show the raw value rather than the key.
        family, _, value = key.partition("_")
        return value if family in OPEN_FAMILIES and value else key
    text = entry.get(lang) or entry.get(DEFAULT_LANG) or key
    if values:
        try:
            return text.format(**values)
        except (KeyError, IndexError, ValueError):
            return text
    return text


def translator(lang: str) -> Callable[..., str]:
    """A `t(key, **values)` bound to one language, for templates and handlers."""

    def t(key: str, **values: Any) -> str:
        return translate(lang, key, **values)

    return t
