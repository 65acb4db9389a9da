"""Replies to the feelings and troubles children bring (and guardians, in adult words).

A child's reply has two bubbles: (1) acknowledge, in the child's own words when a short
phrase can be reflected, plus one gentle question; (2) offer the exercises that fit, as
buttons, plus who they can talk to. Each part has several variants and the one used last
time is never used again right away. `memory` (a slot) carries what we know from earlier
turns: the last topic, the parent the child misses, the variants already used.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any, Optional

from bot.companion import content
from bot.companion.content import button_title, exercise_payload, text_in
from bot.companion.engine import Message
from bot.companion.text import normalize, reflect_phrase

# Which parent a message is about. Both words in one message means both parents.
_BOTH = ("爸妈", "父母", "爸爸妈妈", "爸爸和妈妈", "mum and dad", "mom and dad", "parents")
_MUM = ("妈", "娘", "mum", "mom", "mother", "mommy", "mummy")
_DAD = ("爸", "爹", "dad", "father", "daddy")


@dataclass
class Reply:
    messages: list[Message]
    memory: dict[str, Any]


def topic_names() -> list[str]:
    return list(content.topics()["topics"])


def person_in(text: str) -> Optional[str]:
    """"mum", "dad" or "both" when the message names a parent, else None."""
    norm = normalize(text)
    if any(w in norm for w in _BOTH):
        return "both"
    has_mum = any(_has_word(norm, w) for w in _MUM)
    has_dad = any(_has_word(norm, w) for w in _DAD)
    if has_mum and has_dad:
        return "both"
    return "mum" if has_mum else "dad" if has_dad else None


def _has_word(norm: str, word: str) -> bool:
    if word.isascii():
        return f" {word} " in f" {norm.replace(',', ' ').replace('.', ' ')} "
    return word in norm


def compose(topic: str, lang: str, role: Optional[str], text: str,
            memory: Optional[dict[str, Any]], rng: Optional[random.Random] = None) -> Reply:
    """The reply to `topic` (an intent name), given what the child wrote and said before."""
    memory = _fresh(memory)
    rng = rng or random.Random()
    spec = content.topics()["topics"][topic]
    if role == "guardian":
        return _guardian_reply(topic, spec, lang, memory, rng)
    person = person_in(text)
    if person:
        memory["person"] = person
    ack = _ack(topic, spec, lang, text, person, memory, rng)
    question = _choose(f"{topic}.question", spec["question"], lang, memory, rng)
    first = _join(lang, ack, question)
    if first == memory.get("last_text") and len(spec["question"]) > 1:
        question = _choose(f"{topic}.question", spec["question"], lang, memory, rng)
        first = _join(lang, ack, question)
    offer = _choose(f"{topic}.offer", spec.get("offer") or _shared("offer"), lang, memory, rng)
    close = _choose(f"{topic}.close", spec.get("close") or _shared("close"), lang, memory, rng)
    buttons = exercise_buttons(spec.get("offer_exercises", []), lang)
    memory.update(last_topic=topic, last_text=first)
    memory["topics"] = (memory.get("topics") or [])[-9:] + [topic]
    return Reply([Message(first), Message(_join(lang, offer, close), buttons)], memory)


def follow_up(kind: str, lang: str, role: Optional[str], memory: Optional[dict[str, Any]],
              rng: Optional[random.Random] = None) -> Reply:
    """A yes/no right after a topic reply: yes shows the exercises again, no is fine too."""
    memory = _fresh(memory)
    rng = rng or random.Random()
    pool = content.topics()["followup"]["affirm" if kind == "affirm" else "deny"]
    text = _choose(f"followup.{kind}", pool, lang, memory, rng)
    topic = memory.get("last_topic")
    spec = content.topics()["topics"].get(topic or "", {})
    buttons: list[dict[str, str]] = []
    if kind == "affirm" and spec:
        if role == "guardian":
            buttons = _dedupe([b for v in spec.get("guardian", []) for b in _buttons(v, lang)])
        else:
            buttons = exercise_buttons(spec.get("offer_exercises", []), lang)
    if kind == "affirm" and not buttons:
        text = _choose("followup.deny", content.topics()["followup"]["deny"], lang, memory, rng)
    return Reply([Message(text, buttons)], memory)


def exercise_buttons(exercise_ids: list[str], lang: str) -> list[dict[str, str]]:
    buttons = []
    for exercise_id in exercise_ids:
        ex = content.exercise(exercise_id)
        if ex is not None:
            buttons.append({"title": button_title(ex, lang), "payload": exercise_payload(ex["id"])})
    return buttons


# --- parts ------------------------------------------------------------------------------


def _ack(topic: str, spec: dict[str, Any], lang: str, text: str, person: Optional[str],
         memory: dict[str, Any], rng: random.Random) -> str:
    quote = reflect_phrase(text)
    if memory.get("last_topic") == topic and spec.get("ack_again"):
        return _choose(f"{topic}.ack_again", spec["ack_again"], lang, memory, rng)
    remembered = memory.get("person")
    used = memory.setdefault("used", {})
    if remembered and not person and spec.get("ack_memory") and not used.get(f"{topic}.memo"):
        used[f"{topic}.memo"] = "1"  # once per topic: a reminder, not a refrain
        label = text_in(content.topics()["people"][remembered], lang)
        return _choose(f"{topic}.ack_memory", spec["ack_memory"], lang, memory, rng,
                       person=label)
    used_quote_last = memory.get("used", {}).get(f"{topic}.kind") == "quote"
    if quote and spec.get("ack_quote") and not used_quote_last:
        memory.setdefault("used", {})[f"{topic}.kind"] = "quote"
        return _choose(f"{topic}.ack_quote", spec["ack_quote"], lang, memory, rng, quote=quote)
    memory.setdefault("used", {})[f"{topic}.kind"] = "plain"
    return _choose(f"{topic}.ack", spec["ack"], lang, memory, rng)


def _guardian_reply(topic: str, spec: dict[str, Any], lang: str, memory: dict[str, Any],
                    rng: random.Random) -> Reply:
    variant = _choose_variant(f"{topic}.guardian", spec["guardian"], memory, rng)
    memory.update(last_topic=topic, last_text=text_in(variant, lang))
    return Reply([Message(text_in(variant, lang), _buttons(variant, lang))], memory)


def _choose(part: str, variants: list[dict[str, Any]], lang: str, memory: dict[str, Any],
            rng: random.Random, **values: str) -> str:
    variant = _choose_variant(part, variants, memory, rng)
    return text_in(variant, lang).format(**values) if values else text_in(variant, lang)


def _choose_variant(part: str, variants: list[dict[str, Any]], memory: dict[str, Any],
                    rng: random.Random) -> dict[str, Any]:
    """A variant other than the one used last time for this part (when there is another)."""
    used = memory.setdefault("used", {})
    options = [v for v in variants if v["id"] != used.get(part)] or list(variants)
    variant = rng.choice(options)
    used[part] = variant["id"]
    return variant


def _buttons(variant: dict[str, Any], lang: str) -> list[dict[str, str]]:
    return [{"title": text_in(b["title"], lang), "payload": b["payload"]}
            for b in variant.get("buttons", [])]


def _dedupe(buttons: list[dict[str, str]]) -> list[dict[str, str]]:
    seen, unique = set(), []
    for button in buttons:
        if button["payload"] not in seen:
            seen.add(button["payload"])
            unique.append(button)
    return unique


def _shared(name: str) -> list[dict[str, Any]]:
    return content.topics()[name]


def _join(lang: str, *parts: str) -> str:
    return (" " if lang == "en" else "").join(p for p in parts if p)


def _fresh(memory: Optional[dict[str, Any]]) -> dict[str, Any]:
    memory = dict(memory or {})
    memory["used"] = dict(memory.get("used") or {})
    return memory
