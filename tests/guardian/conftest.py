"""Fixtures for the guardian tests: a migrated SQLite file, people, workers, trackers."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any, Optional

ROOT = str(Path(__file__).resolve().parents[2])
if ROOT not in sys.path:  # `tests` is not installed: make `import actions…` work
    sys.path.insert(0, ROOT)


def make_tracker(
    sender_id: str = "tg:5001",
    *,
    slots: Optional[dict[str, Any]] = None,
    text: str = "",
    intent: str = "ask_caregiving",
    entities: Optional[list[dict[str, Any]]] = None,
    response_key: Optional[str] = None,
    timestamp: float = 1_700_000_000.0,
    active_loop: Optional[str] = None,
    candidates: Optional[dict[str, Any]] = None,
):  # type: ignore[no-untyped-def]
    """A rasa_sdk Tracker as the action server would receive it."""
    from rasa_sdk import Tracker

    latest: dict[str, Any] = {
        "text": text,
        "intent": {"name": intent, "confidence": 0.9},
        "entities": entities or [],
    }
    if response_key:
        latest["response_selector"] = {
            "all_retrieval_intents": ["ask_caregiving"],
            "ask_caregiving": {
                "response": {"intent_response_key": response_key, "confidence": 0.9},
                "ranking": [],
            },
        }
    all_slots = {"language": "zh", "role": "guardian"}
    all_slots.update(slots or {})
    events = [{"event": "user", "timestamp": timestamp, "text": text, "parse_data": latest}]
    # slot candidates the form appends after the user message (what a validator checks)
    events += [{"event": "slot", "name": k, "value": v} for k, v in (candidates or {}).items()]
    return Tracker(
        sender_id=sender_id,
        slots=all_slots,
        latest_message=latest,
        events=events,
        paused=False,
        followup_action=None,
        active_loop={"name": active_loop} if active_loop else {},
        latest_action_name="action_listen",
    )
