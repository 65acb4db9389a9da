"""Deterministic text helpers: normalising a child's message and matching phrase lists.

Inside an exercise we never guess with a model whether a child wants to stop: a stop word
is a stop word. Matching is on a normalised form (simplified characters, half-width,
lower case, no punctuation or spaces at the ends), so "停！", "STOP" and "繼續" all work.
"""

from __future__ import annotations

import json
import re
import unicodedata
from dataclasses import dataclass, field
from typing import Any, Iterable, Optional

from bot.nlu.text import CJK_RE, normalize_same_length

_EDGE_PUNCT = " \t\r\n。，、！？!?,.;；:：~～…—-_\"'“”‘’「」『』()（）[]【】<>《》·*"
_PAYLOAD_RE = re.compile(r"^/(?P<intent>[\w/]+)(?P<entities>\{.*\})?\s*$", re.S)
_SPACES = re.compile(r"\s+")


def normalize(text: str) -> str:
    """The comparable form of a message: simplified, half-width, lower case, trimmed."""
    text = unicodedata.normalize("NFKC", text or "")
    text = normalize_same_length(text)
    text = _SPACES.sub(" ", text).strip(_EDGE_PUNCT)
    return text.replace("’", "'")


def compact(text: str) -> str:
    """`normalize` without inner spaces, so "ting xia" and "tingxia" compare equal."""
    return normalize(text).replace(" ", "")


def is_chinese(text: str) -> bool:
    return bool(CJK_RE.search(text or ""))


def matches_exact(text: str, phrases: Iterable[str]) -> bool:
    norm, tight = normalize(text), compact(text)
    for phrase in phrases:
        p = normalize(str(phrase))
        if norm == p or tight == p.replace(" ", ""):
            return True
    return False


def matches_contains(text: str, phrases: Iterable[str]) -> bool:
    norm = normalize(text)
    return any(normalize(str(p)) in norm for p in phrases if str(p).strip())


@dataclass(frozen=True)
class Payload:
    """A button payload such as `/rate{"rating":"4"}` read without the NLU model."""

    intent: str
    entities: dict[str, Any] = field(default_factory=dict)


def parse_payload(text: str) -> Optional[Payload]:
    match = _PAYLOAD_RE.match((text or "").strip())
    if not match:
        return None
    entities: dict[str, Any] = {}
    if match.group("entities"):
        try:
            loaded = json.loads(match.group("entities"))
            entities = loaded if isinstance(loaded, dict) else {}
        except ValueError:
            entities = {}
    return Payload(match.group("intent"), entities)


def shorten(text: str, limit: int) -> str:
    """At most `limit` characters (Chinese) or about `limit` * 2 (Latin), with an ellipsis."""
    text = _SPACES.sub(" ", (text or "").strip())
    budget = limit if is_chinese(text) else limit * 2
    if len(text) <= budget:
        return text
    return text[: budget - 1].rstrip() + "…"


_CLAUSE_SPLIT = re.compile(r"[。！？!?，,；;\n~～…]+|(?<=[a-z])\.(?:\s|$)")
_FILLERS = {"嗯", "啊", "哎", "唉", "哦", "呃", "emm", "em", "um", "uh", "hmm", "oh", "well"}
_TRAILING_PARTICLES = "啊呀吧啦嘛哦呢哈"


def reflect_phrase(text: str, max_zh: int = 14, max_en_words: int = 8) -> Optional[str]:
    """A short phrase of the child's own words to reflect back, or None.

    Whole message when short, else the first clause that is short enough. Button payloads
    and one-word fillers are never reflected.
    """
    if not text or parse_payload(text):
        return None
    clauses = [c.strip(_EDGE_PUNCT) for c in _CLAUSE_SPLIT.split(text.strip())]
    candidates = [text.strip(_EDGE_PUNCT)] + clauses
    for clause in candidates:
        clause = clause.rstrip(_TRAILING_PARTICLES).strip(_EDGE_PUNCT)
        if not clause or clause.lower() in _FILLERS:
            continue
        if is_chinese(clause):
            if 2 <= len(clause) <= max_zh:
                return clause
        else:
            words = clause.split()
            if 2 <= len(words) <= max_en_words:
                return clause
    return None


_SENTENCE_END = re.compile(r"[。！？!?]+[”」』）)\"']*|(?<!\.)\.(?!\.)(?=[\s”\"']|$)")


def sentence_count(text: str) -> int:
    """Sentences in a message: one per end mark, plus a trailing sentence without one."""
    text = (text or "").strip()
    if not text:
        return 0
    ends = list(_SENTENCE_END.finditer(text))
    tail = text[ends[-1].end():].strip() if ends else text
    return len(ends) + (1 if tail and re.search(r"\w", tail) else 0)


def cjk_length(text: str) -> int:
    return len(CJK_RE.findall(text or ""))
