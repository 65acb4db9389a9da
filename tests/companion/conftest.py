"""Fixtures for the child companion tests: a migrated SQLite file and rasa_sdk trackers."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any, Optional

ROOT = str(Path(__file__).resolve().parents[2])
if ROOT not in sys.path:  # `tests` is not installed: make `import actions…` work
    sys.path.insert(0, ROOT)


def user_event(text: str, intent: str, entities: Optional[list[dict[str, Any]]] = None,
               confidence: float = 0.95) -> dict[str, Any]:
    parse = {"text": text, "intent": {"name": intent, "confidence": confidence},
             "entities": entities or []}
    return {"event": "user", "timestamp": 1_700_000_000.0, "text": text, "parse_data": parse}


def make_tracker(
    sender_id: str = "tg:7001",
    *,
    slots: Optional[dict[str, Any]] = None,
    text: str = "",
    intent: str = "request_exercise",
    entities: Optional[list[dict[str, Any]]] = None,
    confidence: float = 0.95,
    history: Optional[list[dict[str, Any]]] = None,
    after_user: Optional[list[dict[str, Any]]] = None,
    active_loop: Optional[str] = None,
):  # type: ignore[no-untyped-def]
    """A rasa_sdk Tracker as the action server would receive it.

    `history` goes before the latest user message, `after_user` after it (e.g. the
    `active_loop` event the form adds when it is activated this turn).
    """
    from rasa_sdk import Tracker

    latest = user_event(text, intent, entities, confidence)
    all_slots: dict[str, Any] = {"language": "zh", "role": "child", "age_band": "8-10"}
    all_slots.update(slots or {})
    events = list(history or []) + [latest] + list(after_user or [])
    return Tracker(
        sender_id=sender_id,
        slots=all_slots,
        latest_message=latest["parse_data"],
        events=events,
        paused=False,
        followup_action=None,
        active_loop={"name": active_loop} if active_loop else {},
        latest_action_name="action_listen",
    )


async def run_action(action, tracker, domain: Optional[dict[str, Any]] = None):  # type: ignore[no-untyped-def]
    """(messages sent, events returned) of one action run."""
    from rasa_sdk.executor import CollectingDispatcher

    dispatcher = CollectingDispatcher()
    events = await action.run(dispatcher, tracker, domain or {})
    return dispatcher.messages, events


def slots_of(events: list[dict[str, Any]]) -> dict[str, Any]:
    return {e["name"]: e["value"] for e in events if e.get("event") == "slot"}
