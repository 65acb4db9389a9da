"""First contact: who is this (child or guardian, age band), remembered across sessions."""

from __future__ import annotations

from typing import Any, Optional

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ActionExecuted, EventType, SessionStarted, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy import select

from actions.common import Database, buttons, language_of, load_content, pick
from bot.db.models import AGE_BANDS, Person

PROFILE_SLOTS = ("role", "age_band", "language")


def _channel_of(sender_id: str) -> str:
    return sender_id.split(":", 1)[0] if ":" in sender_id else "rest"


def save_profile(db: Database, sender_id: str, **fields: Optional[str]) -> None:
    """Create or update the pseudonymous profile for this conversation."""
    with db.session() as session:
        person = session.execute(select(Person).where(Person.sender_id == sender_id)).scalar()
        if person is None:
            person = Person(sender_id=sender_id, channel=_channel_of(sender_id))
            session.add(person)
        for name, value in fields.items():
            if value:
                setattr(person, name, value)


def load_profile(db: Database, sender_id: str) -> dict[str, Optional[str]]:
    with db.session() as session:
        person = session.execute(select(Person).where(Person.sender_id == sender_id)).scalar()
        if person is None:
            return {}
        role = person.role if person.role in ("child", "guardian") else None
        return {"role": role, "age_band": person.age_band, "language": person.language}


class ActionSessionStart(Action):
    """Start a session with the profile we already know, so returning users aren't re-asked."""

    def __init__(self, db: Optional[Database] = None) -> None:
        self.db = db or Database()

    def name(self) -> str:
        return "action_session_start"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        events: list[EventType] = [SessionStarted()]
        carried = {s: tracker.get_slot(s) for s in tracker.slots}
        events += [SlotSet(k, v) for k, v in carried.items() if v is not None]
        known = load_profile(self.db, tracker.sender_id)
        events += [
            SlotSet(k, v)
            for k, v in known.items()
            if v and carried.get(k) is None and k != "language"
        ]
        events.append(ActionExecuted("action_listen"))
        return events


class ActionOnboard(Action):
    """Greeting, role question, age question and the menu: one small state machine."""

    def __init__(self, db: Optional[Database] = None) -> None:
        self.db = db or Database()

    def name(self) -> str:
        return "action_onboard"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        lang = language_of(tracker)
        intent = (tracker.latest_message.get("intent") or {}).get("name")
        role = tracker.get_slot("role")
        age = tracker.get_slot("age_band")
        content = load_content("onboarding.yml")
        if role is None:
            dispatcher.utter_message(response="utter_intro")
            dispatcher.utter_message(response="utter_ask_role")
            return []
        save_profile(
            self.db,
            tracker.sender_id,
            role=role,
            language=lang,
            age_band=age if age in AGE_BANDS else None,
        )
        if role == "child" and age is None:
            dispatcher.utter_message(response="utter_ask_age")
            return []
        if intent == "choose_role" and role == "guardian":
            dispatcher.utter_message(
                text=pick(content["after_role"]["guardian"], lang),
                buttons=buttons(content["menu"]["guardian"], lang),
            )
        elif intent == "choose_age":
            dispatcher.utter_message(
                text=pick(content["after_age"], lang),
                buttons=buttons(content["menu"]["child"], lang),
            )
        else:
            dispatcher.utter_message(
                text=pick(content["welcome_back"][role], lang),
                buttons=buttons(content["menu"][role], lang),
            )
        return []
