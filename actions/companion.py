"""Child companion actions: topic replies, the mood check-in, the week's progress, stop.

Thin: replies are composed in `bot.companion.topics` / `progress`, check-in patterns are
judged in `bot.companion.checkins`, texts live in `data/content/`.
"""

from __future__ import annotations

import datetime as dt
import random
from typing import Any, Optional

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.common import Database, language_of
from actions.exercises import (
    MEMORY,
    activated_this_turn,
    is_disclosure,
    leave_for_safety,
    safely,
    send,
    topic_reply,
    user_input,
)
from actions.guardian import guardian_reroute
from bot.companion import checkins, content, engine, progress, ratings, store, topics
from bot.companion.content import text_in
from bot.companion.progress import RunSummary
from bot.db.models import utcnow

CHECKIN_FORM = "checkin_form"
CHECKIN_SLOT = "checkin_rating"
FOLLOW_UP_INTENTS = ("affirm", "deny")


def _buttons(items: list[dict[str, Any]], lang: str) -> list[dict[str, str]]:
    return [{"title": text_in(b["title"], lang), "payload": b["payload"]} for b in items]


def _intent(tracker: Tracker) -> Optional[str]:
    return ((tracker.latest_message or {}).get("intent") or {}).get("name")


# --- topics -------------------------------------------------------------------------------------


class ActionTopicReply(Action):
    """feel_*, miss_parents, school_stress, friend_trouble, low_confidence, chores_burden,
    and a yes/no right after such a reply."""

    def name(self) -> str:
        return "action_topic_reply"

    def __init__(self, rng: Optional[random.Random] = None) -> None:
        self.rng = rng or random.Random()

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        memory = tracker.get_slot(MEMORY)
        intent = _intent(tracker)
        if intent not in FOLLOW_UP_INTENTS:
            rerouted = guardian_reroute(dispatcher, tracker)  # a grandparent's question
            if rerouted is not None:
                return rerouted
            topic = intent if intent in topics.topic_names() else (memory or {}).get("last_topic")
            return topic_reply(dispatcher, tracker, topic, self.rng)
        reply = topics.follow_up(intent, language_of(tracker), tracker.get_slot("role"), memory,
                                 self.rng)
        send(dispatcher, reply.messages)
        return [SlotSet(MEMORY, reply.memory)]


# --- mood check-in ------------------------------------------------------------------------------


class ValidateCheckinForm(Action):
    """Reads the rating (button, face, digit or word); re-asks once; never traps the child."""

    def name(self) -> str:
        return "validate_checkin_form"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        if is_disclosure(tracker):  # never "tap a face" in reply to a disclosure
            leave_for_safety(dispatcher, tracker)
            return _close_checkin()
        if activated_this_turn(tracker, CHECKIN_FORM):
            return [SlotSet(CHECKIN_SLOT, None)]  # the trigger message is not an answer
        lang = language_of(tracker)
        user = user_input(tracker, tracker.get_slot(CHECKIN_SLOT))
        score = ratings.parse(user.text) or ratings.from_entities(list(user.entities))
        if score is not None:
            return [SlotSet(CHECKIN_SLOT, str(score))]
        texts = content.common()["checkin"]
        control = engine.classify(user.text, "rating")
        if control in ("stop", "goodbye", "dont_know"):
            dispatcher.utter_message(text=text_in(texts["skipped"], lang))
            return _close_checkin()
        if engine.is_topic_change(user, control) and user.intent in topics.topic_names():
            # They'd rather talk: answer what they said, and skip the check-in for now.
            reply = topics.compose(user.intent, lang, tracker.get_slot("role"), user.text,
                                   tracker.get_slot(MEMORY))
            send(dispatcher, reply.messages)
            return _close_checkin() + [SlotSet(MEMORY, reply.memory)]
        if _answers_since_activation(tracker) >= 2:
            dispatcher.utter_message(text=text_in(texts["skipped"], lang))
            return _close_checkin()
        dispatcher.utter_message(text=text_in(texts["retry"], lang))
        return [SlotSet(CHECKIN_SLOT, None)]  # the form asks again (utter_ask_checkin_rating)


def _close_checkin() -> list[EventType]:
    return [SlotSet(CHECKIN_SLOT, None), SlotSet("requested_slot", None)]


def _answers_since_activation(tracker: Tracker) -> int:
    count = 0
    for event in reversed(tracker.events):
        if event.get("event") == "active_loop" and event.get("name") == CHECKIN_FORM:
            break
        if event.get("event") == "user":
            count += 1
    return count


class ActionCheckinDone(Action):
    """Store the check-in, answer kindly, and open a watch note when the pattern calls for it."""

    def name(self) -> str:
        return "action_checkin_done"

    def __init__(self, db: Optional[Database] = None) -> None:
        self.db = db or Database()

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        score = self._score(tracker)
        if score is None:
            return [SlotSet(CHECKIN_SLOT, None)]
        lang = language_of(tracker)
        texts = content.common()["checkin"]
        outcome = safely("saving the check-in", lambda: self._save(tracker, score), (0, False))
        days, watched = outcome
        band = "thanks_low" if score <= 2 else "thanks_mid" if score == 3 else "thanks_high"
        parts = [text_in(texts[band], lang)]
        if days > 1:
            parts.append(text_in(texts["streak"], lang).format(days=days))
        if watched:
            parts.append(text_in(texts["watch_told"], lang))
        buttons = {1: "buttons_low", 2: "buttons_low", 4: "buttons_high", 5: "buttons_high"}
        chosen = texts.get(buttons.get(score, ""), [])
        messages = [engine.Message(p) for p in parts]
        messages[-1].buttons = _buttons(chosen, lang)
        send(dispatcher, engine.pack(messages, lang))
        return [SlotSet(CHECKIN_SLOT, None)]

    @staticmethod
    def _score(tracker: Tracker) -> Optional[int]:
        slot = tracker.get_slot(CHECKIN_SLOT)
        if slot:
            return ratings.parse(str(slot))
        if _intent(tracker) == "rate":  # a face tapped outside the form still counts
            user = user_input(tracker)
            return ratings.from_entities(list(user.entities)) or ratings.parse(user.text)
        return None

    def _save(self, tracker: Tracker, score: int) -> tuple[int, bool]:
        """(days checked in this week, whether a watch note was raised)."""
        role = tracker.get_slot("role")
        with self.db.session() as session:
            saved = store.add_checkin(session, tracker.sender_id, score, role)
            since = utcnow() - dt.timedelta(days=8)
            history = [(c.created_at, c.score)
                       for c in store.checkins_since(session, saved.person_id, since)]
            reason = checkins.watch_reason(history)
            watched = False
            if reason and role != "guardian":
                person = store.person_for(session, tracker.sender_id, role)
                checkins.raise_watch(session, person, reason)
                watched = True
            week = {checkins.local_day(t) for t, _ in history
                    if t >= utcnow() - dt.timedelta(days=7)}
        return len(week), watched


# --- progress ----------------------------------------------------------------------------------


class ActionMyProgress(Action):
    """my_progress: the child's week, with encouragement (never guilt)."""

    def name(self) -> str:
        return "action_my_progress"

    def __init__(self, db: Optional[Database] = None) -> None:
        self.db = db or Database()

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        lang = language_of(tracker)
        texts = content.common()["progress"]
        week = safely("loading the week", lambda: self._week(tracker), ([], []))
        lines = progress.week_lines(week[0], week[1], lang, turn=len(tracker.events))
        buttons = _buttons(texts["buttons"], lang)
        if not lines:
            dispatcher.utter_message(text=text_in(texts["nothing"], lang), buttons=buttons)
            return []
        messages = [engine.Message(line) for line in lines]
        messages[-1].buttons = buttons
        send(dispatcher, engine.pack(messages, lang))
        return []

    def _week(self, tracker: Tracker) -> tuple[list[tuple[dt.datetime, int]], list[RunSummary]]:
        since = utcnow() - dt.timedelta(days=7)
        with self.db.session() as session:
            person = store.person_for(session, tracker.sender_id, tracker.get_slot("role"))
            found = [(c.created_at, c.score)
                     for c in store.checkins_since(session, person.id, since)]
            runs = [RunSummary(r.exercise, r.status, r.rating_before, r.rating_after)
                    for r in store.runs_since(session, person.id, since)]
        return found, runs


# --- stop and "I don't understand" outside an exercise -----------------------------------------


class ActionCompanionStop(Action):
    def name(self) -> str:
        return "action_companion_stop"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        lang = language_of(tracker)
        dispatcher.utter_message(text=text_in(content.common()["stop_outside"], lang))
        return []


class ActionCompanionRephrase(Action):
    """"听不懂" outside an exercise: say what we meant more simply, with buttons to go on."""

    def name(self) -> str:
        return "action_companion_rephrase"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        lang = language_of(tracker)
        texts = content.common()["rephrase"]
        memory = tracker.get_slot(MEMORY) or {}
        last_topic = memory.get("last_topic")
        if _previous_action(tracker) == "action_topic_reply" and last_topic:
            spec = content.topics()["topics"].get(last_topic, {})
            buttons = topics.exercise_buttons(spec.get("offer_exercises", []), lang)
            dispatcher.utter_message(text=text_in(texts["after_topic"], lang), buttons=buttons)
            return []
        progress_buttons = _buttons(content.common()["progress"]["buttons"], lang)
        dispatcher.utter_message(text=text_in(texts["general"], lang), buttons=progress_buttons)
        return []


def _previous_action(tracker: Tracker) -> Optional[str]:
    """The last action before the latest user message (not counting listen/slot extraction)."""
    seen_user = False
    for event in reversed(tracker.events):
        if event.get("event") == "user":
            if seen_user:
                return None
            seen_user = True
            continue
        if seen_user and event.get("event") == "action":
            name = event.get("name")
            if name not in ("action_listen", "action_extract_slots"):
                return name
    return None
