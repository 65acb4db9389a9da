"""Exercise actions: offer one, run it in `exercise_form`, resume it, check back on plans.

Thin: every decision is made by `bot.companion.engine`; these actions move its state in
and out of slots, mirror it on the ExerciseRun row, and send its messages. The form has one
required slot (`exercise_input`, filled from the text of every message while the form is
active); `validate_exercise_form` hands that text to the engine and clears the slot again
until the engine says the exercise is over (then it sets `requested_slot` to None).
"""

from __future__ import annotations

import logging
import random
from typing import Any, Callable, Optional, TypeVar

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.common import Database, language_of
from bot.companion import content, engine, store, topics
from bot.companion.content import button_title, exercise_payload, text_in
from bot.companion.engine import Message, Turn, UserInput

log = logging.getLogger(__name__)
T = TypeVar("T")

FORM = "exercise_form"
INPUT = "exercise_input"
EXERCISE_ID = "exercise_id"
STATE = "exercise_state"
READY = "exercise_ready"  # featurized: the rules start the form only when this is true
PLAN_DUE = "plan_followup_due"  # featurized: greet asks about a plan only when true
MEMORY = "topic_memory"
RISK_INTENT = "risk_disclosure"


# --- helpers shared with actions/companion.py and guardian.py ---------------------------------


def send(dispatcher: CollectingDispatcher, messages: list[Message]) -> None:
    for message in messages:
        dispatcher.utter_message(text=message.text, buttons=message.buttons or [])


def topic_reply(dispatcher: CollectingDispatcher, tracker: Tracker, topic: Optional[str],
                rng: random.Random) -> list[EventType]:
    """The companion's reply on a child's topic (feel_bored when there is none);
    also what a child gets whose message was taken for a caregiving question."""
    topic = topic if topic in topics.topic_names() else "feel_bored"
    text = (tracker.latest_message or {}).get("text") or ""
    reply = topics.compose(topic, language_of(tracker), tracker.get_slot("role"), text,
                           tracker.get_slot(MEMORY), rng)
    send(dispatcher, reply.messages)
    return [SlotSet(MEMORY, reply.memory)]


def child_topic_from_ranking(tracker: Tracker) -> Optional[str]:
    """The likeliest child topic in the classifier's ranking (None if it has none)."""
    ranking = (tracker.latest_message or {}).get("intent_ranking") or []
    return next((r.get("name") for r in ranking if r.get("name") in topics.topic_names()), None)


def safely(what: str, call: Callable[[], T], default: T) -> T:
    """Run a database call; on failure log it and carry on. A child's exercise must never
    break because the database is busy or down."""
    try:
        return call()
    except Exception:  # noqa: BLE001 - any storage failure is logged, never shown
        log.exception("companion: %s failed", what)
        return default


def user_input(tracker: Tracker, text: Optional[str] = None) -> UserInput:
    message = tracker.latest_message or {}
    intent = message.get("intent") or {}
    return UserInput(
        text=text if text is not None else (message.get("text") or ""),
        intent=intent.get("name"),
        confidence=float(intent.get("confidence") or 0.0),
        entities=tuple(message.get("entities") or ()),
    )


def entity(tracker: Tracker, name: str) -> Optional[str]:
    for found in (tracker.latest_message or {}).get("entities") or []:
        if found.get("entity") == name and found.get("value"):
            return str(found["value"])
    return None


def menu_buttons(lang: str) -> list[dict[str, str]]:
    return [
        {"title": button_title(ex, lang), "payload": exercise_payload(ex["id"])}
        for ex in content.menu_exercises()
    ]


def is_disclosure(tracker: Tracker) -> bool:
    """The latest message was marked as a risk disclosure by the detector (or the NLU)."""
    message = tracker.latest_message or {}
    risk = message.get("risk") or {}
    return (message.get("intent") or {}).get("name") == RISK_INTENT or bool(risk.get("escalate"))


def safety_policy_answering(tracker: Tracker) -> bool:
    """SafetyPolicy has taken this turn (it sets `safety_turns` when it starts a crisis reply).

    In Rasa's ensemble a form's "happy path" prediction overrules every policy, so a form
    can still run once on a disclosure; it must then step aside without a word.
    """
    for event in reversed(tracker.events):
        if event.get("event") == "user":
            return False
        if event.get("event") == "slot" and event.get("name") == "safety_turns":
            return bool(event.get("value"))
    return False


def leave_for_safety(dispatcher: CollectingDispatcher, tracker: Tracker) -> None:
    """Only if SafetyPolicy is not answering (it always should): give the crisis reply."""
    if safety_policy_answering(tracker):
        return
    guardian = tracker.get_slot("role") == "guardian"
    dispatcher.utter_message(response="utter_crisis_guardian" if guardian else "utter_crisis")


def activated_this_turn(tracker: Tracker, form: str) -> bool:
    """True when `form` was switched on after the latest user message (form activation)."""
    for event in reversed(tracker.events):
        if event.get("event") == "user":
            return False
        if event.get("event") == "active_loop" and event.get("name") == form:
            return True
    return False


# --- offer --------------------------------------------------------------------------------------


class ActionOfferExercise(Action):
    """request_exercise: start the exercise the child named, else show the menu."""

    def name(self) -> str:
        return "action_offer_exercise"

    def __init__(self, db: Optional[Database] = None) -> None:
        self.db = db or Database()

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        lang = language_of(tracker)
        chosen = self._chosen(tracker)
        if chosen:
            return [SlotSet(EXERCISE_ID, chosen), SlotSet(STATE, None), SlotSet(READY, True),
                    SlotSet("exercise", None)]
        texts = content.common()["offer"]
        buttons = menu_buttons(lang)
        paused = self._paused(tracker)
        text = text_in(texts["menu"], lang)
        if paused:
            title = content.title_of(content.exercise(paused["exercise"]), lang)
            text = text_in(texts["paused_first"], lang).format(title=title)
            resume = {"title": text_in(texts["resume_button"], lang).format(title=title),
                      "payload": "/resume"}
            buttons = [resume] + buttons
        dispatcher.utter_message(text=text, buttons=buttons)
        return [SlotSet(READY, False), SlotSet("exercise", None)]

    @staticmethod
    def _chosen(tracker: Tracker) -> Optional[str]:
        named = entity(tracker, "exercise")
        if named and content.exercise(named) and content.exercise(named).get("menu", True):
            return named
        text = (tracker.latest_message or {}).get("text") or ""
        return content.match_exercise(text)

    def _paused(self, tracker: Tracker) -> Optional[dict[str, Any]]:
        state = tracker.get_slot(STATE)
        if engine.can_resume(state) and content.exercise(state.get("exercise", "")):
            return state
        return None


# --- the form's validation: the engine's turn -------------------------------------------------


class ValidateExerciseForm(Action):
    """Each message inside an exercise goes to the engine; its messages are sent here."""

    def name(self) -> str:
        return "validate_exercise_form"

    def __init__(self, db: Optional[Database] = None) -> None:
        self.db = db or Database()

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        lang = language_of(tracker)
        ex = content.exercise(tracker.get_slot(EXERCISE_ID) or "")
        if ex is None:
            return _end_form([SlotSet(READY, False)])
        if is_disclosure(tracker):
            return self._leave_for_safety(dispatcher, tracker)
        state = tracker.get_slot(STATE)
        if activated_this_turn(tracker, FORM):
            turn = self._begin(ex, state, lang)
        else:
            text = tracker.get_slot(INPUT)
            turn = engine.handle(ex, state or engine.new_state(ex), user_input(tracker, text), lang)
        return self._after(dispatcher, tracker, ex, turn, lang)

    def _begin(self, ex: dict[str, Any], state: Optional[dict[str, Any]], lang: str) -> Turn:
        if state and state.get("exercise") == ex["id"] and engine.can_resume(state):
            return engine.resume(ex, state, lang)
        answers = state.get("answers") if state and state.get("exercise") == ex["id"] else None
        return engine.start(ex, lang, answers)

    def _after(self, dispatcher: CollectingDispatcher, tracker: Tracker, ex: dict[str, Any],
               turn: Turn, lang: str) -> list[EventType]:
        messages = list(turn.messages)
        self._save(tracker, ex, turn.state)
        events: list[EventType] = []
        if turn.switch_to:  # a menu button or a chained exercise: start it in the same form
            ex = content.exercise(turn.switch_to)
            turn = engine.start(ex, lang)
            messages += turn.messages
            self._save(tracker, ex, turn.state)
        if engine.follow_up_hours(ex, turn.state):
            events.append(SlotSet(PLAN_DUE, True))
        if turn.handoff_intent and turn.handoff_intent not in topics.topic_names() and messages:
            messages[-1].buttons = _command_buttons(turn.handoff_intent, lang)
        send(dispatcher, messages)
        if turn.handoff_intent in topics.topic_names():
            events += _topic_handoff(dispatcher, tracker, turn, lang)
        events += [SlotSet(EXERCISE_ID, ex["id"]), SlotSet(STATE, turn.state), SlotSet(INPUT, None)]
        return _end_form(events) if turn.status != engine.ACTIVE else events

    def _save(self, tracker: Tracker, ex: dict[str, Any], state: dict[str, Any]) -> None:
        """Mirror the state on its ExerciseRun row (created on the first turn)."""

        def write() -> None:
            with self.db.session() as session:
                if not state.get("run_id"):
                    state["run_id"] = store.start_run(session, tracker.sender_id, state,
                                                      tracker.get_slot("role"))
                store.save_run(session, state["run_id"], state,
                               engine.follow_up_hours(ex, state))

        safely("saving the exercise run", write, None)

    def _leave_for_safety(self, dispatcher: CollectingDispatcher,
                          tracker: Tracker) -> list[EventType]:
        # A disclosure leaves the exercise at once (kept as stopped: "继续" can resume it
        # later). SafetyPolicy gives the crisis reply; we only do if it did not start.
        state = dict(tracker.get_slot(STATE) or {})
        if state:
            state["status"] = engine.STOPPED
            self._save(tracker, content.exercise(state.get("exercise", "")) or {}, state)
        leave_for_safety(dispatcher, tracker)
        return _end_form([SlotSet(STATE, state or None), SlotSet(INPUT, None)])


def _end_form(events: list[EventType]) -> list[EventType]:
    return events + [SlotSet(INPUT, None), SlotSet("requested_slot", None)]


def _topic_handoff(dispatcher: CollectingDispatcher, tracker: Tracker, turn: Turn,
                   lang: str) -> list[EventType]:
    """The child paused to talk about something else: answer that right away."""
    reply = topics.compose(turn.handoff_intent or "", lang, tracker.get_slot("role"),
                           turn.handoff_text or "", tracker.get_slot(MEMORY))
    send(dispatcher, reply.messages)
    return [SlotSet(MEMORY, reply.memory)]


def _command_buttons(intent: str, lang: str) -> list[dict[str, str]]:
    """Paused for another feature (check-in, progress, …): one tap to get there."""
    button = content.common()["engine"]["handoff_buttons"].get(intent.split("/")[0])
    if not button:
        return []
    return [{"title": text_in(button["title"], lang), "payload": button["payload"]}]


# --- after the form, resume, plans ------------------------------------------------------------


class ActionExerciseEnd(Action):
    """After the form closes: reset the switches; forget a finished exercise's answers."""

    def name(self) -> str:
        return "action_exercise_end"

    def __init__(self, db: Optional[Database] = None) -> None:
        self.db = db or Database()

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        events: list[EventType] = [SlotSet(READY, False), SlotSet(INPUT, None)]
        state = tracker.get_slot(STATE)
        if state and state.get("status") == engine.DONE:
            events.append(SlotSet(STATE, None))  # the run row keeps them, encrypted
        if tracker.get_slot(PLAN_DUE) and not engine.follow_up_hours(
            content.exercise(tracker.get_slot(EXERCISE_ID) or "") or {}, state or {}
        ):
            # The greeting rule only looks for plans while this is true: switch it off
            # once every plan has been asked about.
            pending = safely("looking for pending plans", lambda: self._pending(tracker), True)
            if not pending:
                events.append(SlotSet(PLAN_DUE, False))
        return events

    def _pending(self, tracker: Tracker) -> bool:
        with self.db.session() as session:
            return store.has_pending_plan(session, tracker.sender_id)


class ActionResumeExercise(Action):
    """"继续" / "continue": pick up the exercise that was stopped, else offer the menu."""

    def name(self) -> str:
        return "action_resume_exercise"

    def __init__(self, db: Optional[Database] = None) -> None:
        self.db = db or Database()

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        state = tracker.get_slot(STATE)
        if not engine.can_resume(state):
            state = safely("loading a stopped exercise", lambda: self._from_db(tracker), None)
        if state and content.exercise(state.get("exercise", "")):
            return [SlotSet(EXERCISE_ID, state["exercise"]), SlotSet(STATE, state),
                    SlotSet(READY, True)]
        lang = language_of(tracker)
        texts = content.common()["offer"]
        dispatcher.utter_message(text=text_in(texts["nothing_to_resume"], lang),
                                 buttons=menu_buttons(lang))
        return [SlotSet(READY, False)]

    def _from_db(self, tracker: Tracker) -> Optional[dict[str, Any]]:
        with self.db.session() as session:
            state = store.resumable_state(session, tracker.sender_id)
        return state if engine.can_resume(state) else None


class ActionPlanFollowup(Action):
    """After a greeting: if a problem-solving plan is due, ask how it went (plan_check)."""

    def name(self) -> str:
        return "action_plan_followup"

    def __init__(self, db: Optional[Database] = None) -> None:
        self.db = db or Database()

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        onboarding = tracker.get_slot("role") is None or (
            tracker.get_slot("role") == "child" and tracker.get_slot("age_band") is None
        )
        if onboarding:  # onboarding just asked a question: don't ask a second one
            return [SlotSet(READY, False)]
        # `plan_followup_due` is left as it is: the greeting rules are conditioned on it
        # (action_exercise_end switches it off when no plan is left to ask about).
        due = safely("loading a due plan", lambda: self._due(tracker), None)
        if due is None:
            return [SlotSet(READY, False)]
        ex = content.exercise("plan_check")
        state = engine.new_state(ex, {"plan": {"text": due}})
        return [SlotSet(EXERCISE_ID, ex["id"]), SlotSet(STATE, state), SlotSet(READY, True)]

    def _due(self, tracker: Tracker) -> Optional[str]:
        with self.db.session() as session:
            found = store.due_plan(session, tracker.sender_id)
            if found is not None:
                store.mark_followed_up(session, found[0])
        return found[1] if found else None
