"""The 1-5 feeling rating: emoji buttons, and reading what a child types instead."""

from __future__ import annotations

import re
from typing import Any, Optional

from bot.companion import content
from bot.companion.text import compact, normalize, parse_payload

MIN, MAX = 1, 5
_DIGITS = re.compile(r"\d+")
_MAX_WORD_MESSAGE = 16  # longer messages are sentences, not ratings: only faces/digits count


def buttons() -> list[dict[str, str]]:
    """😢🙁😐🙂😄 with payloads `/rate{"rating":"N"}` (the same in both languages)."""
    faces = content.common()["rating"]["faces"]
    return [
        {"title": face, "payload": '/rate{"rating":"%d"}' % (i + 1)}
        for i, face in enumerate(faces)
    ]


def face(score: Optional[int]) -> str:
    faces = content.common()["rating"]["faces"]
    if score is None or not MIN <= int(score) <= MAX:
        return "·"
    return faces[int(score) - 1]


def from_entities(entities: list[dict[str, Any]]) -> Optional[int]:
    for entity in entities or []:
        if entity.get("entity") == "rating":
            return _valid(entity.get("value"))
    return None


def _valid(value: Any) -> Optional[int]:
    try:
        number = int(str(value).strip())
    except (TypeError, ValueError):
        return None
    return number if MIN <= number <= MAX else None


def parse(text: str) -> Optional[int]:
    """A rating from a payload, a face, a digit, a numeral or a feeling word; else None."""
    payload = parse_payload(text)
    if payload is not None:
        return _valid(payload.entities.get("rating")) if payload.intent == "rate" else None
    table = content.common()["rating"]
    by_face = _face_score(text, table)
    if by_face is not None:
        return by_face
    digits = _DIGITS.findall(normalize(text))
    if len(digits) == 1:
        return _valid(digits[0])
    if digits:
        return None
    tight = compact(text)
    for word in ("分",):
        tight = tight.replace(word, "")
    numeral = table["numerals"].get(tight)
    if numeral:
        return int(numeral)
    if len(tight) > _MAX_WORD_MESSAGE:
        return None
    return _word_score(normalize(text), table["words"])


def out_of_range(text: str) -> bool:
    """A number was typed, but not 1-5 ("0", "10"): worth a specific nudge."""
    digits = _DIGITS.findall(normalize(text))
    return len(digits) == 1 and _valid(digits[0]) is None


def _face_score(text: str, table: dict[str, Any]) -> Optional[int]:
    found = set()
    for i, face_char in enumerate(table["faces"]):
        if face_char in text:
            found.add(i + 1)
    for score, extra in table.get("extra_faces", {}).items():
        if any(e in text for e in extra):
            found.add(int(score))
    return found.pop() if len(found) == 1 else None


def _word_score(norm: str, words: dict[str, list[str]]) -> Optional[int]:
    """Longest matching phrase wins; for English, phrases match whole words only."""
    best: tuple[int, Optional[int]] = (0, None)
    for score, phrases in words.items():
        for phrase in phrases:
            p = normalize(str(phrase))
            if not p or len(p) <= best[0]:
                continue
            if re.fullmatch(r"[a-z' -]+", p):
                hit = re.search(rf"(?<![a-z]){re.escape(p)}(?![a-z])", norm)
            else:
                hit = p in norm
            if hit:
                best = (len(p), int(score))
    return best[1]
