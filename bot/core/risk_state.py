"""The conversation's risk, read from the risk marks the NLU detector left on each message.

Shared by the safety policy (what to answer) and the tracker store (what to record), so the
reply and the case always agree.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any, Iterable, Optional

from rasa.shared.core.events import Event, UserUttered

logger = logging.getLogger(__name__)

RISK_KEY = "risk"


@dataclass(frozen=True)
class ConversationRisk:
    escalate_now: bool  # the latest message (alone or with the turns before it) escalates
    category: Optional[str]
    severity: Optional[str]
    evidence: list[str]
    from_context: bool  # only the accumulation over several turns escalates


def user_messages(events: Iterable[Event]) -> list[UserUttered]:
    return [e for e in events if isinstance(e, UserUttered) and e.text is not None]


RISK_INTENT = "risk_disclosure"


def risk_of(event: UserUttered) -> dict[str, Any]:
    """The detector's marks; for a `risk_disclosure` that skipped NLU, marks from its entities.

    Messages written as intents (`/risk_disclosure{…}`, replayed test stories) never pass
    through the NLU detector, but an explicit risk intent must still escalate.
    """
    risk = (event.parse_data or {}).get(RISK_KEY)
    if risk:
        return risk
    if (event.intent or {}).get("name") != RISK_INTENT:
        return {}
    entities = {e.get("entity"): e.get("value") for e in event.entities or []}
    return {
        "escalate": True,
        "category": entities.get("risk_category"),
        "severity": entities.get("risk_severity") or "high",
        "evidence": ["intent:risk_disclosure"],
        "signals": [],
    }


def assess(messages: list[UserUttered], context_turns: int = 5) -> ConversationRisk:
    """Assess the latest of `messages`, given up to `context_turns` before it."""
    if not messages:
        return ConversationRisk(False, None, None, [], False)
    latest = risk_of(messages[-1])
    if latest.get("escalate"):
        return ConversationRisk(
            True,
            latest.get("category"),
            latest.get("severity"),
            list(latest.get("evidence") or []),
            False,
        )
    try:
        return _assess_context(messages[-context_turns:])
    except Exception:  # context is a second net; never let it break the first
        logger.exception("context assessment failed")
        return ConversationRisk(False, None, None, [], False)


def _assess_context(window: list[UserUttered]) -> ConversationRisk:
    from bot.safety import Detection
    from bot.safety.context import assess_conversation

    detections = []
    for message in window:
        risk = risk_of(message)
        if risk:
            detections.append(Detection.from_dict(risk))
    if not detections or not risk_of(window[-1]).get("signals"):
        return ConversationRisk(False, None, None, [], False)  # nothing new this turn
    combined = assess_conversation(detections)
    if not combined.escalate:
        return ConversationRisk(False, None, None, [], False)
    return ConversationRisk(
        True, combined.category, combined.severity, list(combined.evidence), True
    )


def conversation_risk(tracker: Any, context_turns: int = 5) -> ConversationRisk:
    return assess(user_messages(tracker.events), context_turns)
