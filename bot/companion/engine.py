"""One engine for every exercise: pure functions over a JSON-able state.

An exercise is a script (`data/content/exercises/<id>.yml`): an intro, steps, a closing.
Steps are `say` (text, no wait), `choice` (buttons; typed words work too; may branch),
`text` (a free answer kept under `key`) and `count` (repeat `times`, e.g. breaths).
When the script asks for it, a 1-5 feeling rating comes before the first step and after
the last one.

Every turn goes through `handle`, which never leaves the child stuck: stop words always
stop; "I don't understand" re-explains more simply; "I don't know" gets a hint, then the
step is skipped; a question gets the step's help; a new topic gets a gentle offer to
pause; after a few unmatched replies the engine moves on by itself. Nothing here guesses
with a model: the NLU intent is only a hint for telling a change of topic from a typo.
"""

from __future__ import annotations

import copy
import re
import unicodedata
from dataclasses import dataclass, field
from typing import Any, Optional

from bot.companion import content, ratings
from bot.companion.content import END, next_of, steps_by_id, text_in
from bot.companion.text import (
    cjk_length,
    compact,
    matches_contains,
    matches_exact,
    normalize,
    parse_payload,
    sentence_count,
    shorten,
)

RATE_BEFORE = "_rate_before"
RATE_AFTER = "_rate_after"
ACTIVE, STOPPED, DONE = "active", "stopped", "done"
PAUSE_OFFER = "pause_offer"

# Intents that mean "I want to talk about something else" when they arrive instead of an
# answer to a button question (never inside a free-text step: there, everything is an answer).
TOPIC_INTENTS = frozenset(
    "feel_happy feel_sad feel_lonely feel_angry feel_worried feel_bored miss_parents "
    "school_stress friend_trouble low_confidence chores_burden mood_checkin my_progress "
    "request_exercise ask_caregiving report_concern ask_social_worker".split()
)
# Requests for another feature. Inside a free-text step only these (typed, short, and
# recognised with high confidence) or a tapped button count as a change of topic: a
# feeling written there is an answer ("我很难过" is what happened, not a new topic).
COMMAND_INTENTS = frozenset(
    "mood_checkin my_progress request_exercise ask_caregiving report_concern "
    "ask_social_worker".split()
)
COMMAND_CONFIDENCE = 0.85
COMMAND_MAX_CHARS = 12
TOPIC_CONFIDENCE = 0.6
DEFAULT_QUOTE_LIMIT = 20
_NEGATION = re.compile(r"[不没别]|\bnot\b|n't|\bno\b")
_QUESTION_START = re.compile(r"^(why|how|what|who|where|when|can|is|do|does)\b")


@dataclass
class Message:
    text: str
    buttons: list[dict[str, str]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {"text": self.text, "buttons": list(self.buttons)}


@dataclass(frozen=True)
class UserInput:
    """What the child sent: the raw text plus, as a hint only, what the NLU made of it."""

    text: str
    intent: Optional[str] = None
    confidence: float = 0.0
    entities: tuple[dict[str, Any], ...] = ()


@dataclass
class Turn:
    messages: list[Message]
    state: dict[str, Any]
    switch_to: Optional[str] = None  # start this exercise next (menu button, chained option)
    handoff_intent: Optional[str] = None  # paused because the child brought up this topic
    handoff_text: Optional[str] = None

    @property
    def status(self) -> str:
        return self.state["status"]


# --- public API --------------------------------------------------------------------------


def new_state(ex: dict[str, Any], answers: Optional[dict[str, Any]] = None) -> dict[str, Any]:
    return {
        "exercise": ex["id"],
        "step": None,
        "answers": dict(answers or {}),
        "count": 0,
        "tries": 0,
        "pending": None,
        "pending_intent": None,
        "pending_text": None,
        "rating_before": None,
        "rating_after": None,
        "status": ACTIVE,
        "turn": 0,
    }


def start(ex: dict[str, Any], lang: str, answers: Optional[dict[str, Any]] = None) -> Turn:
    """Begin `ex`: intro, then the rating before (or the first step)."""
    state = new_state(ex, answers)
    state["lang"] = lang
    messages = [Message(_render(ex["intro"], ex, state, lang))]
    if ex.get("rate", True):
        state["step"] = RATE_BEFORE
        messages.append(_prompt(ex, state, lang))
    else:
        _advance(ex, state, ex["steps"][0]["id"], lang, messages)
    return _turn(messages, state)


def resume(ex: dict[str, Any], state: dict[str, Any], lang: str) -> Turn:
    """Pick a stopped exercise up where it was left."""
    state = copy.deepcopy(state)
    state.update(status=ACTIVE, pending=None, pending_intent=None, pending_text=None, tries=0)
    state["lang"] = lang
    messages = [Message(_pick(content.common()["engine"]["resumed"], lang, state))]
    messages.append(_prompt(ex, state, lang))
    return _turn(messages, state)


def can_resume(state: Optional[dict[str, Any]]) -> bool:
    return bool(state) and state.get("status") in (ACTIVE, STOPPED) and state.get("step") not in (
        None,
        END,
    )


def handle(ex: dict[str, Any], state: dict[str, Any], user: UserInput, lang: str) -> Turn:
    """One child message inside the exercise."""
    state = copy.deepcopy(state)
    state["turn"] = int(state.get("turn", 0)) + 1
    state["lang"] = lang  # the child may have switched language: answer in the new one
    if state.get("status") == DONE or state.get("step") in (None, END):
        return _turn([], state)
    kind = current_kind(ex, state)
    control = classify(user.text, kind)
    if state.get("pending") == PAUSE_OFFER:
        return _answer_pause_offer(ex, state, user, control, lang)
    if control in ("stop", "goodbye"):
        return _stop(state, lang, goodbye=control == "goodbye")
    if control == "switch":
        payload = parse_payload(user.text)
        target = str(payload.entities.get("exercise")) if payload else None
        if target and target != ex["id"] and content.exercise(target):
            state["status"] = STOPPED
            return _turn([], state, switch_to=target)
        control = "resume"  # the button of the exercise we are already doing
    if control == "resume":
        texts = content.common()["engine"]["resumed"]
        return _turn([Message(_pick(texts, lang, state)), _prompt(ex, state, lang)], state)
    if user.intent == "bot_challenge" and user.confidence >= 0.8 and kind != "text":
        answer = Message(_pick(content.common()["engine"]["bot_answer"], lang, state))
        return _turn([answer, _prompt(ex, state, lang)], state)
    handler = {"rating": _on_rating, "choice": _on_choice, "count": _on_count, "text": _on_text}
    return handler[kind](ex, state, user, control, lang)


def current_kind(ex: dict[str, Any], state: dict[str, Any]) -> str:
    """rating | choice | text | count, or "done" when nothing is asked any more."""
    if state["step"] in (RATE_BEFORE, RATE_AFTER):
        return "rating"
    if state["step"] in (None, END):
        return "done"
    return steps_by_id(ex)[state["step"]]["type"]


def classify(text: str, kind: str) -> Optional[str]:
    """stop | goodbye | switch | resume | topic | dont_understand | dont_know | help |
    question | None (an ordinary answer). Deterministic: phrase lists, never a model."""
    payload = parse_payload(text)
    if payload is not None:
        return _classify_payload(payload)
    controls = content.common()["controls"]
    if matches_exact(text, controls["stop"]["exact"]) or matches_contains(
        text, controls["stop"]["contains"]
    ):
        return "stop"
    if matches_exact(text, controls["goodbye"]["exact"]):
        return "goodbye"
    if matches_exact(text, controls["dont_understand"]["exact"]) or matches_contains(
        text, controls["dont_understand"]["contains"]
    ):
        return "dont_understand"
    if matches_exact(text, controls["dont_know"]["exact"]):
        return "dont_know"
    if matches_exact(text, controls["help"]["exact"]):
        return "help"
    if kind != "text" and _looks_like_question(text):
        return "question"
    return None


def follow_up_hours(ex: dict[str, Any], state: dict[str, Any]) -> Optional[float]:
    """Hours until the assistant should ask how a plan went (problem-solving), or None."""
    follow_up = ex.get("follow_up")
    if not follow_up or state.get("status") != DONE:
        return None
    if not str(state["answers"].get(follow_up["key"], "")).strip():
        return None
    return float(follow_up.get("hours") or content.common()["plan_followup"]["hours"])


# --- turn handlers ----------------------------------------------------------------------


def _classify_payload(payload: Any) -> Optional[str]:
    if payload.intent == "stop":
        return "stop"
    if payload.intent == "resume":
        return "resume"
    if payload.intent == "request_exercise" and payload.entities.get("exercise"):
        return "switch"
    if payload.intent in TOPIC_INTENTS or payload.intent.startswith("ask_caregiving"):
        return "topic"
    return None


def _looks_like_question(text: str) -> bool:
    marks = content.common()["controls"]["question_marks"]
    norm = normalize(text)
    if len(norm) > 40:
        return False
    raw = (text or "").strip()
    if raw.endswith(("?", "？")):
        return True
    if norm.endswith(("吗", "呢")) or _QUESTION_START.match(norm):
        return True
    return any(m in norm for m in marks if len(m) > 1 and not m.isascii())


def is_topic_change(user: UserInput, control: Optional[str], min_chars: int = 2,
                     confidence: float = TOPIC_CONFIDENCE) -> bool:
    if control == "topic":
        return True
    return (
        user.intent in TOPIC_INTENTS
        and user.confidence >= confidence
        and len(compact(user.text)) >= min_chars
    )


def _on_rating(ex, state, user, control, lang) -> Turn:  # type: ignore[no-untyped-def]
    texts = content.common()["rating"]
    score = ratings.parse(user.text) or ratings.from_entities(list(user.entities))
    messages: list[Message] = []
    if score is not None:
        return _rated(ex, state, score, lang)
    if control == "dont_know":
        return _rated(ex, state, None, lang)
    if control in ("dont_understand", "help", "question"):
        return _turn([_with_buttons(_pick(texts["simple"], lang, state), ratings.buttons())], state)
    if is_topic_change(user, control):
        return _offer_pause(ex, state, user, lang)
    state["tries"] += 1
    if state["tries"] >= _max_tries():
        return _rated(ex, state, None, lang)
    nudge = texts["out_of_range"] if ratings.out_of_range(user.text) else texts["simple"]
    messages.append(_with_buttons(_pick(nudge, lang, state), ratings.buttons()))
    return _turn(messages, state)


def _rated(ex, state, score: Optional[int], lang: str) -> Turn:  # type: ignore[no-untyped-def]
    texts = content.common()["rating"]
    messages: list[Message] = []
    before = state["step"] == RATE_BEFORE
    if score is None:
        messages.append(Message(_pick(texts["skipped"], lang, state)))
    if before:
        state["rating_before"] = score
        if score is not None:
            band = "before_low" if score <= 2 else "before_mid" if score == 3 else "before_high"
            messages.append(Message(_pick(texts[band], lang, state)))
        _advance(ex, state, ex["steps"][0]["id"], lang, messages)
    else:
        state["rating_after"] = score
        messages += _after_reaction(state, lang)
        _finish(ex, state, lang, messages)
    return _turn(messages, state)


def _after_reaction(state: dict[str, Any], lang: str) -> list[Message]:
    texts = content.common()["rating"]
    before, after = state.get("rating_before"), state.get("rating_after")
    if after is None:
        return []
    if before is None:
        key = "after_plain"
    else:
        key = "after_better" if after > before else "after_same" if after == before else (
            "after_worse"
        )
    reaction = [Message(_pick(texts[key], lang, state))]
    if after <= 2:
        reaction.append(Message(_pick(texts["after_low"], lang, state)))
    return reaction


def _on_choice(ex, state, user, control, lang) -> Turn:  # type: ignore[no-untyped-def]
    step = steps_by_id(ex)[state["step"]]
    option = _match_option(ex, step, state, user.text, lang)
    if option is not None:
        return _chose(ex, state, step, option, lang)
    explained = _explain(ex, step, state, control, lang)
    if explained is not None:
        return explained
    if step.get("free") and not is_topic_change(user, control, min_chars=7, confidence=0.8):
        if parse_payload(user.text) is None and compact(user.text):
            return _answered(ex, state, step, user.text, lang)
    if is_topic_change(user, control):
        return _offer_pause(ex, state, user, lang)
    return _unmatched(ex, state, step, lang)


def _chose(ex, state, step, option, lang) -> Turn:  # type: ignore[no-untyped-def]
    if step.get("key"):
        state["answers"][step["key"]] = {"option": option["id"]}
    messages: list[Message] = []
    reply = option.get("reply") or step.get("reply")
    if reply:
        messages.append(Message(_render(reply, ex, state, lang)))
    if option.get("start") and content.exercise(option["start"]):
        state["status"] = DONE
        state["step"] = END
        return _turn(messages, state, switch_to=option["start"])
    _advance(ex, state, option.get("next") or next_of(ex, step), lang, messages)
    return _turn(messages, state)


def _on_count(ex, state, user, control, lang) -> Turn:  # type: ignore[no-untyped-def]
    step = steps_by_id(ex)[state["step"]]
    explained = _explain(ex, step, state, control, lang)
    if explained is not None:
        return explained
    if is_topic_change(user, control, min_chars=4, confidence=0.7):
        return _offer_pause(ex, state, user, lang)
    state["count"] += 1
    state["tries"] = 0
    if state["count"] < int(step["times"]):
        return _turn([_prompt(ex, state, lang)], state)
    messages: list[Message] = []
    _advance(ex, state, next_of(ex, step), lang, messages)
    return _turn(messages, state)


def _on_text(ex, state, user, control, lang) -> Turn:  # type: ignore[no-untyped-def]
    step = steps_by_id(ex)[state["step"]]
    engine = content.common()["engine"]
    if control == "dont_understand":
        return _simpler(ex, step, state, lang)
    if control in ("dont_know", "help"):
        state["tries"] += 1
        if state["tries"] >= 2:
            messages = [Message(_pick(engine["skip_text"], lang, state))]
            _advance(ex, state, next_of(ex, step), lang, messages)
            return _turn(messages, state)
        return _turn([Message(_render(step["hint"], ex, state, lang))], state)
    if control == "topic" or _is_command(user):
        return _offer_pause(ex, state, user, lang)
    if control in ("switch", "resume") or not compact(user.text):
        return _turn([Message(_pick(engine["nudge"], lang, state)), _prompt(ex, state, lang)],
                     state)
    return _answered(ex, state, step, user.text, lang)


def _is_command(user: UserInput) -> bool:
    return (
        user.intent in COMMAND_INTENTS
        and user.confidence >= COMMAND_CONFIDENCE
        and len(compact(user.text)) <= COMMAND_MAX_CHARS
    )


def _answered(ex, state, step, text: str, lang: str) -> Turn:  # type: ignore[no-untyped-def]
    if step.get("key"):
        state["answers"][step["key"]] = {"text": text.strip()}
    messages: list[Message] = []
    reply = step.get("reply")
    acks = content.common()["engine"]["acks"]
    messages.append(Message(_render(reply, ex, state, lang) if reply else _pick(acks, lang, state)))
    _advance(ex, state, next_of(ex, step), lang, messages)
    return _turn(messages, state)


def _explain(ex, step, state, control, lang) -> Optional[Turn]:  # type: ignore[no-untyped-def]
    """Re-explain for "I don't understand" / "I don't know"; answer a question."""
    if control in ("dont_understand", "dont_know"):
        return _simpler(ex, step, state, lang)
    if control in ("help", "question"):
        engine = content.common()["engine"]
        help_text = step.get("help") or ex["help"]
        answer = f"{_pick(engine['question_prefix'], lang, state)}{_space(lang)}"
        answer += _render(help_text, ex, state, lang)
        return _turn([Message(answer), _prompt(ex, state, lang)], state)
    return None


def _simpler(ex, step, state, lang) -> Turn:  # type: ignore[no-untyped-def]
    engine = content.common()["engine"]
    prefix = _pick(engine["simpler_prefix"], lang, state)
    prompt = _prompt(ex, state, lang)
    text = f"{prefix}{_space(lang)}{_render(step['simple'], ex, state, lang)}"
    return _turn([Message(text, prompt.buttons)], state)


def _unmatched(ex, state, step, lang) -> Turn:  # type: ignore[no-untyped-def]
    engine = content.common()["engine"]
    state["tries"] += 1
    if state["tries"] >= _max_tries():
        options = _visible_options(ex, step, state, lang)
        default = next((o for o in options if o.get("default")), options[0] if options else None)
        messages = [Message(_pick(engine["move_on"], lang, state))]
        if default is None:
            _advance(ex, state, next_of(ex, step), lang, messages)
            return _turn(messages, state)
        turn = _chose(ex, state, step, default, lang)
        turn.messages = messages + turn.messages
        return turn
    return _turn([Message(_pick(engine["nudge"], lang, state)), _prompt(ex, state, lang)], state)


def _offer_pause(ex, state, user: UserInput, lang: str) -> Turn:  # type: ignore[no-untyped-def]
    engine = content.common()["engine"]
    state["pending"] = PAUSE_OFFER
    payload = parse_payload(user.text)
    state["pending_intent"] = payload.intent if payload else user.intent
    state["pending_text"] = None if payload else user.text
    buttons = [
        {"title": text_in(b["title"], lang), "payload": b["payload"]}
        for b in engine["pause_buttons"]
    ]
    return _turn([Message(_pick(engine["pause_offer"], lang, state), buttons)], state)


def _answer_pause_offer(ex, state, user, control, lang) -> Turn:  # type: ignore[no-untyped-def]
    controls = content.common()["controls"]
    engine = content.common()["engine"]
    intent, text = state.get("pending_intent"), state.get("pending_text")
    if control in ("dont_understand", "dont_know", "help", "question"):
        return _offer_pause(ex, state, UserInput(text or "", intent), lang)  # ask again
    state.update(pending=None, pending_intent=None, pending_text=None)
    wants_back = control == "resume" or matches_exact(user.text, controls["resume"]["exact"])
    if wants_back or matches_exact(user.text, controls["refuse"]["exact"]):
        messages = [Message(_pick(engine["resumed"], lang, state)), _prompt(ex, state, lang)]
        return _turn(messages, state)
    state["status"] = STOPPED
    if control in ("stop", "goodbye"):
        message = Message(_pick(engine["paused_for_topic"], lang, state))
        return _turn([message], state, handoff_intent=intent, handoff_text=text)
    # They kept talking about the other thing: pause, and let the topic reply answer it.
    payload = parse_payload(user.text)
    new_intent = payload.intent if payload else user.intent
    message = Message(_pick(engine["paused_for_topic"], lang, state))
    return _turn([message], state, handoff_intent=new_intent or intent,
                 handoff_text=None if payload else user.text)


def _stop(state: dict[str, Any], lang: str, goodbye: bool = False) -> Turn:
    engine = content.common()["engine"]
    state["status"] = STOPPED
    state["pending"] = None
    return _turn([Message(_pick(engine["goodbye" if goodbye else "stopped"], lang, state))], state)


# --- moving through the script -----------------------------------------------------------


def _advance(ex, state, target: str, lang: str, messages: list[Message]) -> None:  # type: ignore[no-untyped-def]
    """Say every `say` step from `target` on and stop at the next question (or finish)."""
    index = steps_by_id(ex)
    for _ in range(len(index) + 2):  # a script without waiting steps still ends
        if target == END:
            if ex.get("rate", True) and state["step"] != RATE_AFTER:
                state.update(step=RATE_AFTER, count=0, tries=0)
                messages.append(_prompt(ex, state, lang))
            else:
                _finish(ex, state, lang, messages)
            return
        step = index[target]
        if step["type"] == "say":
            messages.append(Message(_render(step["text"], ex, state, lang)))
            target = next_of(ex, step)
            continue
        if step["type"] == "choice" and not _visible_options(ex, step, state, lang):
            target = next_of(ex, step)
            continue
        state.update(step=target, count=0, tries=0)
        messages.append(_prompt(ex, state, lang))
        return
    _finish(ex, state, lang, messages)


def _finish(ex, state, lang: str, messages: list[Message]) -> None:  # type: ignore[no-untyped-def]
    messages.append(Message(_render(ex["closing"], ex, state, lang)))
    state.update(step=END, status=DONE, count=0, tries=0)


def _prompt(ex, state, lang: str) -> Message:  # type: ignore[no-untyped-def]
    """The current question, with its buttons."""
    rating = content.common()["rating"]
    if state["step"] == RATE_BEFORE:
        return Message(_pick(rating["before"], lang, state), ratings.buttons())
    if state["step"] == RATE_AFTER:
        return Message(_pick(rating["after"], lang, state), ratings.buttons())
    step = steps_by_id(ex)[state["step"]]
    if step["type"] == "count":
        template = step["text"] if state["count"] == 0 else step.get("again", step["text"])
        title = text_in(step["button"], lang)
        return Message(_render(template, ex, state, lang, count_step=step),
                       [{"title": title, "payload": title}])
    buttons = []
    if step["type"] == "choice":
        for option in _visible_options(ex, step, state, lang):
            title = _render(option["title"], ex, state, lang)
            buttons.append({"title": title, "payload": title})
    return Message(_render(step["text"], ex, state, lang), buttons)


def _visible_options(ex, step, state, lang: str) -> list[dict[str, Any]]:  # type: ignore[no-untyped-def]
    """Options whose titles only use answers we have (a skipped idea is not offered)."""
    visible = []
    for option in step.get("options", []):
        keys = content.PLACEHOLDER.findall(text_in(option["title"], lang))
        if all(_answer_text(ex, state, k, lang) for k in keys):
            visible.append(option)
    return visible


def _match_option(ex, step, state, text: str, lang: str) -> Optional[dict[str, Any]]:  # type: ignore[no-untyped-def]
    """The option a child picked, by button, typed title or word, or number; else None."""
    if parse_payload(text) is not None:
        return None
    options = _visible_options(ex, step, state, lang)
    said = _plain(text)
    if not said:
        return None
    for option in options:
        if said in {_plain(c) for c in _option_phrases(ex, state, option)}:
            return option
    number = _number(said)
    if number is not None and 1 <= number <= len(options):
        return options[number - 1]
    if len(said) > 12 or _NEGATION.search(said):
        return None
    hits = [
        o for o in options
        if any(_contains_phrase(said, _plain(c)) for c in _option_phrases(ex, state, o))
    ]
    return hits[0] if len(hits) == 1 else None


def _option_phrases(ex, state, option) -> list[str]:  # type: ignore[no-untyped-def]
    phrases: list[str] = []
    for lang in content.LANGS:  # a child may switch language mid-exercise
        phrases.append(_render(option["title"], ex, state, lang))
        if option.get("label"):
            phrases.append(text_in(option["label"], lang))
        words = (option.get("words") or {}).get(lang) or []
        phrases += [str(w) for w in words]
    return [p for p in phrases if p]


def _contains_phrase(said: str, phrase: str) -> bool:
    if not phrase or (phrase.isascii() and len(phrase) < 3) or len(phrase) < 2:
        return False
    if phrase.isascii():
        return re.search(rf"(?<![a-z]){re.escape(phrase)}(?![a-z])", said) is not None
    return phrase in said


_CIRCLED = "①②③④⑤⑥⑦⑧⑨"
_ZH_NUMBERS = {"一": 1, "二": 2, "三": 3, "四": 4, "五": 5, "六": 6}


def _number(said: str) -> Optional[int]:
    said = said.replace("第", "").replace("个", "").replace("号", "")
    if said.isdigit():
        return int(said)
    if len(said) == 1 and said in _CIRCLED:
        return _CIRCLED.index(said) + 1
    return _ZH_NUMBERS.get(said)


def _plain(text: str) -> str:
    """Normalised, without emoji or symbols, so a typed "准备好了" matches "准备好了 👍"."""
    kept = "".join(
        ch for ch in normalize(text)
        if not unicodedata.category(ch).startswith("S") and ch not in "\u200d\ufe0f"
    )
    return normalize(kept)


# --- text rendering ----------------------------------------------------------------------


class _Answers(dict):  # type: ignore[type-arg]
    def __missing__(self, key: str) -> str:
        return ""


def _render(variants: Any, ex, state, lang: str, count_step=None) -> str:  # type: ignore[no-untyped-def]
    template = _pick(variants, lang, state)
    values = _Answers()
    missing = text_in(content.common()["engine"]["missing"], lang)
    for key in content.PLACEHOLDER.findall(template):
        values[key] = _answer_text(ex, state, key, lang) or missing
    if count_step is not None:
        values["n"] = str(int(state["count"]) + 1)
        values["total"] = str(count_step["times"])
    return template.format_map(values)


def _answer_text(ex, state, key: str, lang: str) -> str:  # type: ignore[no-untyped-def]
    """An answer as it should appear in a sentence: an option's label, or the child's words."""
    answer = state["answers"].get(key)
    if not answer:
        return ""
    if isinstance(answer, dict) and "option" in answer:
        option = _find_option(ex, key, answer["option"])
        if option is None:
            return ""
        label = option.get("label") or option["title"]
        if key in content.PLACEHOLDER.findall(text_in(label, lang)):
            return ""  # a label made of its own answer cannot be rendered
        return _plain_title(_render(label, ex, state, lang))
    text = answer.get("text", "") if isinstance(answer, dict) else str(answer)
    return shorten(text, _quote_limit(ex, key))


def _find_option(ex, key: str, option_id: str) -> Optional[dict[str, Any]]:  # type: ignore[no-untyped-def]
    for step in ex.get("steps", []):
        if step.get("key") == key:
            for option in step.get("options", []):
                if option["id"] == option_id:
                    return option
    return None


def _quote_limit(ex, key: str) -> int:  # type: ignore[no-untyped-def]
    for step in ex.get("steps", []):
        if step.get("key") == key:
            return int(step.get("quote_limit", DEFAULT_QUOTE_LIMIT))
    return DEFAULT_QUOTE_LIMIT


def _plain_title(title: str) -> str:
    kept = "".join(
        ch for ch in title if not unicodedata.category(ch).startswith("S") and ch != "\ufe0f"
    )
    return kept.strip()


def _pick(variants: Any, lang: str, state: dict[str, Any]) -> str:
    """Rotate through variants with the turn number: varied, yet reproducible in tests."""
    return text_in(variants, lang, index=int(state.get("turn", 0)))


def _space(lang: str) -> str:
    return " " if lang == "en" else ""


def _with_buttons(text: str, buttons: list[dict[str, str]]) -> Message:
    return Message(text, buttons)


def _max_tries() -> int:
    return int(content.common().get("max_tries", 3))


# --- packing messages into bubbles ---------------------------------------------------------

MAX_SENTENCES = 3
MAX_CJK = 120
MAX_LATIN = 320


def fits_one_bubble(text: str) -> bool:
    if sentence_count(text) > MAX_SENTENCES:
        return False
    return cjk_length(text) <= MAX_CJK if cjk_length(text) else len(text) <= MAX_LATIN


def pack(messages: list[Message], lang: str) -> list[Message]:
    """Join short consecutive messages into one bubble while it stays within 1-3 sentences."""
    packed: list[Message] = []
    for message in messages:
        if not message.text and not message.buttons:
            continue
        last = packed[-1] if packed else None
        if last is not None and not last.buttons:
            joined = f"{last.text}{_space(lang)}{message.text}".strip()
            if fits_one_bubble(joined):
                packed[-1] = Message(joined, list(message.buttons))
                continue
        packed.append(Message(message.text, list(message.buttons)))
    return packed


def _turn(messages: list[Message], state: dict[str, Any], **extra: Any) -> Turn:
    return Turn(pack(messages, state.get("lang") or "zh"), state, **extra)
