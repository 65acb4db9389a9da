"""Length-preserving text normalisation shared by the tokenizer and the language detector.

Offsets must stay valid for entity extraction, so every mapping here is one character to
one character: traditional → simplified (single-character conversions only), full-width
→ half-width, upper → lower case.
"""

from __future__ import annotations

import re
from functools import lru_cache

CJK_RE = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
LATIN_WORD_RE = re.compile(r"[a-zA-Z]+(?:'[a-zA-Z]+)?")


@lru_cache(maxsize=1)
def _t2s():  # type: ignore[no-untyped-def]
    from opencc import OpenCC

    return OpenCC("t2s")


@lru_cache(maxsize=65536)
def _char_t2s(char: str) -> str:
    converted = _t2s().convert(char)
    return converted if len(converted) == 1 else char


def _half_width(char: str) -> str:
    code = ord(char)
    if code == 0x3000:
        return " "
    if 0xFF01 <= code <= 0xFF5E:
        return chr(code - 0xFEE0)
    return char


def normalize_same_length(text: str) -> str:
    """Normalise so that `len(result) == len(text)` and offsets still line up."""
    out = []
    for char in text:
        char = _half_width(char)
        if CJK_RE.match(char):
            char = _char_t2s(char)
        elif not char.isprintable() and char not in "\n\t":
            char = " "
        out.append(char.lower())
    return "".join(out)


def has_cjk(text: str) -> bool:
    return bool(CJK_RE.search(text))
