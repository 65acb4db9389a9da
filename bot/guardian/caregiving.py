"""Caregiving answers for grandparents: a short first answer, a deeper one, follow-ups.

Each topic is a data file `data/content/caregiving/<topic>.yml` with `first`, `more` and a
list of `follow_up` parts, each a list of chat bubbles per language. A conversation walks
through a topic without repeating itself: the parts already shown are remembered (slot
`caregiving_seen`), so "tell me more" and "what if he refuses?" always bring something new
until the topic is exhausted, and then an offer of human help.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterable, Literal, Optional

from bot.guardian import services
from bot.guardian.content import CAREGIVING_DIR, lang_or_default, load_yaml, text_in

RETRIEVAL_INTENT = "ask_caregiving"
TOPICS = (
    "screen_time",
    "homework",
    "emotions",
    "missing_parents",
    "eating",
    "sleep",
    "water_safety",
    "stranger_safety",
    "discipline",
    "illness",
    "warning_signs",
    "bullying",
    "puberty",
    "guardian_self_care",
    "school_contact",
    "services",
)
FIRST, MORE, DONE = "first", "more", "done"
OFFER_MORE, OFFER_TELL_WORKER = "more", "tell_worker"
Request = Literal["more", "follow_up"]


@dataclass(frozen=True)
class Message:
    """One chat bubble; buttons (Rasa payloads) hang under it."""

    text: str
    buttons: tuple[dict[str, str], ...] = field(default_factory=tuple)


@dataclass(frozen=True)
class Answer:
    topic: str
    part: str  # first | more | follow_up:<i> | done
    messages: tuple[Message, ...]


def topic_file(topic: str) -> dict[str, Any]:
    if topic not in TOPICS:
        raise KeyError(f"unknown caregiving topic {topic!r}")
    return load_yaml(CAREGIVING_DIR / f"{topic}.yml")


def prompts() -> dict[str, Any]:
    return load_yaml(CAREGIVING_DIR / "_prompts.yml")


def topic_from_key(key: Optional[str]) -> Optional[str]:
    """`ask_caregiving/sleep` (or plain `sleep`) -> `sleep`; anything else -> None."""
    if not key:
        return None
    topic = key.split("/", 1)[1] if key.startswith(RETRIEVAL_INTENT + "/") else key
    return topic if topic in TOPICS else None


def follow_up_parts(topic: str) -> list[str]:
    return [f"follow_up:{i}" for i in range(len(topic_file(topic).get("follow_up") or []))]


def all_parts(topic: str) -> list[str]:
    return [FIRST, MORE, *follow_up_parts(topic)]


def offer_kind(topic: str) -> str:
    return topic_file(topic).get("offer", OFFER_MORE)


def part_texts(topic: str, part: str, lang: str) -> list[str]:
    """The bubbles of one part in `lang`, with `{service:…}` entries written out."""
    lang = lang_or_default(lang)
    content = topic_file(topic)
    if part.startswith("follow_up:"):
        block = content["follow_up"][int(part.split(":", 1)[1])]
    else:
        block = content[part]
    return [services.render(text, lang) for text in block.get(lang) or block["zh"]]


def localized_buttons(items: Iterable[dict[str, Any]], lang: str) -> tuple[dict[str, str], ...]:
    return tuple(
        {"title": text_in(item["title"], lang), "payload": item["payload"]} for item in items
    )


def topic_button(topic: str, lang: str) -> dict[str, str]:
    # Payloads never go through the classifier: the entity names the topic exactly.
    return {
        "title": text_in(topic_file(topic)["title"], lang),
        "payload": f'/{RETRIEVAL_INTENT}{{"caregiving_topic": "{topic}"}}',
    }


def first_answer(topic: str, lang: str) -> Answer:
    """The short answer, then one question: more? (or, for the guardian's own strain, help?)"""
    lang = lang_or_default(lang)
    bubbles = [Message(text) for text in part_texts(topic, FIRST, lang)]
    key = "offer_tell_worker" if offer_kind(topic) == OFFER_TELL_WORKER else "offer_more"
    offer = prompts()[key]
    bubbles.append(Message(text_in(offer["text"], lang), localized_buttons(offer["buttons"], lang)))
    return Answer(topic, FIRST, tuple(bubbles))


def _more(topic: str, lang: str) -> Answer:
    bubbles = [Message(text) for text in part_texts(topic, MORE, lang)]
    extra = localized_buttons(topic_file(topic).get("more_buttons") or [], lang)
    closing = topic_file(topic).get("after_more") or prompts()["after_more"]
    bubbles.append(Message(text_in(closing, lang), extra))
    return Answer(topic, MORE, tuple(bubbles))


def _follow_up(topic: str, part: str, lang: str) -> Answer:
    return Answer(topic, part, tuple(Message(text) for text in part_texts(topic, part, lang)))


def done_answer(topic: str, lang: str) -> Answer:
    done = prompts()["topic_done"]
    message = Message(text_in(done["text"], lang), localized_buttons(done["buttons"], lang))
    return Answer(topic, DONE, (message,))


def next_answer(topic: str, lang: str, seen: Iterable[str], request: Request) -> Answer:
    """Something not yet shown on `topic`: "more" prefers the deeper answer, a follow-up
    question prefers the follow-up parts ("what if he refuses?"); then the other; then done."""
    lang = lang_or_default(lang)
    shown = set(seen)
    follow_ups = [p for p in follow_up_parts(topic) if p not in shown]
    more = [MORE] if MORE not in shown else []
    order = more + follow_ups if request == "more" else follow_ups + more
    if not order:
        return done_answer(topic, lang)
    part = order[0]
    return _more(topic, lang) if part == MORE else _follow_up(topic, part, lang)


def which_topic(lang: str) -> Message:
    """When a follow-up comes before any topic: ask which one, with a few buttons."""
    lang = lang_or_default(lang)
    ask = prompts()["which_topic"]
    return Message(
        text_in(ask["text"], lang), tuple(topic_button(t, lang) for t in ask["topics"])
    )


def summary(topic: str, lang: str) -> str:
    """The one-line summary, identical to the domain's `utter_ask_caregiving/<topic>`."""
    return text_in(topic_file(topic)["summary"], lang_or_default(lang))
