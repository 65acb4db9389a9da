"""Turn risk marks on user messages into cases and alert outbox rows — idempotently.

Called by the tracker store in the same transaction that stores the user's message, and by
the alert worker's sweep over the stored events (a second footing if the first ever fails).
Keys derived from the event make both paths safe to run on the same message.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from typing import Any, Optional, Sequence

from rasa.shared.core.events import BotUttered, Event, UserUttered
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.alerts.outbox import enqueue_case_alert
from bot.alerts.timing import ack_deadline
from bot.core.risk_state import ConversationRisk, assess, risk_of
from bot.db.models import OPEN_STATUSES, Case, CaseEvent, Person, utcnow
from bot.safety.categories import mandatory_report
from bot.safety.types import SEVERITY_RANK

logger = logging.getLogger(__name__)

CONTEXT_TURNS = 5
CONTEXT_EVENTS = 12


@dataclass(frozen=True)
class Profile:
    """What the conversation's slots say about the sender."""

    role: Optional[str] = None
    language: Optional[str] = None
    age_band: Optional[str] = None


def event_key(sender_id: str, event: UserUttered) -> str:
    return f"{sender_id}:{event.timestamp!r}"



def _person(session: Session, sender_id: str, profile: Profile) -> Person:
    person = session.execute(select(Person).where(Person.sender_id == sender_id)).scalar()
    if person is None:
        person = Person(
            sender_id=sender_id, channel=sender_id.split(":", 1)[0] if ":" in sender_id else "rest"
        )
        session.add(person)
    if profile.role in ("child", "guardian") and person.role == "unknown":
        person.role = profile.role
    if profile.language in ("zh", "en"):
        person.language = profile.language
    if profile.age_band and not person.age_band:
        person.age_band = profile.age_band
    session.flush()
    return person


def _context(history: Sequence[Event], upto: UserUttered) -> list[dict[str, Any]]:
    """The last turns up to and including the triggering message, both sides."""
    turns: list[dict[str, Any]] = []
    for event in history:
        if isinstance(event, UserUttered) and event.text is not None:
            turns.append({"who": "user", "text": event.text[:2000], "at": event.timestamp})
        elif isinstance(event, BotUttered) and event.text:
            turns.append({"who": "bot", "text": event.text[:2000], "at": event.timestamp})
        if event is upto:
            break
    return turns[-CONTEXT_EVENTS:]


def find_open_case(session: Session, sender_id: str) -> Optional[Case]:
    return session.execute(
        select(Case)
        .where(Case.sender_id == sender_id, Case.kind == "risk", Case.status.in_(OPEN_STATUSES))
        .order_by(Case.id.desc())
        .limit(1)
    ).scalar()


def _open_case(
    session: Session,
    sender_id: str,
    person: Person,
    message: UserUttered,
    risk: ConversationRisk,
    context: list,
) -> Case:
    now = utcnow()
    case = Case(
        kind="risk",
        sender_id=sender_id,
        person_id=person.id,
        child_id=person.id if person.role != "guardian" else None,
        category=risk.category,
        severity=risk.severity or "high",
        status="open",
        mandatory_report=mandatory_report(risk.category),
        source_key=event_key(sender_id, message),
        summary=message.text[:4000],
        context=context,
        evidence={
            "evidence": risk.evidence,
            "from_context": risk.from_context,
            "risk": risk_of(message),
        },
        notify_due_at=now + ack_deadline(risk.severity),
        created_at=now,
    )
    session.add(case)
    session.flush()
    _alert(session, case)
    logger.warning(
        "risk case %s opened: %s/%s for %s", case.id, case.category, case.severity, sender_id
    )
    return case


def _alert(session: Session, case: Case) -> None:
    enqueue_case_alert(session, case)  # routes the case to its worker, in our transaction


def _append(
    session: Session, case: Case, sender_id: str, message: UserUttered, risk: ConversationRisk
) -> None:
    key = event_key(sender_id, message)
    if session.execute(select(CaseEvent.id).where(CaseEvent.event_key == key)).first():
        return
    session.add(
        CaseEvent(
            case_id=case.id,
            kind="message",
            text=message.text[:4000],
            data={"risk": risk_of(message)},
            event_key=key,
        )
    )
    if risk.escalate_now and SEVERITY_RANK.get(risk.severity or "", 0) > SEVERITY_RANK.get(
        case.severity or "", 0
    ):
        # Worse than what the worker was told: raise the case and alert again.
        case.severity = risk.severity
        case.category = risk.category or case.category
        case.mandatory_report = case.mandatory_report or mandatory_report(risk.category)
        case.escalation_level = 0
        case.notify_due_at = utcnow() + ack_deadline(risk.severity)
        session.flush()
        enqueue_case_alert(session, case, kind="upgrade")
    session.flush()


def _already_recorded(session: Session, sender_id: str, message: UserUttered) -> bool:
    key = event_key(sender_id, message)
    if session.execute(select(Case.id).where(Case.source_key == key)).first():
        return True
    return bool(session.execute(select(CaseEvent.id).where(CaseEvent.event_key == key)).first())


def record_messages(
    session: Session,
    sender_id: str,
    history: Sequence[Event],
    new_events: Sequence[Event],
    profile: Profile = Profile(),
) -> list[int]:
    """Record risk from the user messages in `new_events` (which are the tail of `history`).

    Returns the ids of cases opened or appended to. Safe to call twice for the same events.
    """
    messages = [e for e in history if isinstance(e, UserUttered) and e.text is not None]
    new_ids = {id(e) for e in new_events}
    touched: list[int] = []
    for index, message in enumerate(messages):
        if id(message) not in new_ids or _already_recorded(session, sender_id, message):
            continue
        risk = assess(messages[: index + 1], CONTEXT_TURNS)
        case = find_open_case(session, sender_id)
        if case is not None:
            _append(session, case, sender_id, message, risk)
            touched.append(case.id)
        elif risk.escalate_now:
            person = _person(session, sender_id, profile)
            case = _open_case(session, sender_id, person, message, risk, _context(history, message))
            touched.append(case.id)
    return touched


# --- the second footing: a sweep over the stored events ---------------------------------

SWEEP_HISTORY_EVENTS = 40


def _stored_events(session: Session, sender_id: str, upto_id: int) -> list[tuple[int, Event]]:
    from sqlalchemy import text

    rows = session.execute(
        text(
            "SELECT id, data FROM events WHERE sender_id = :sender AND id <= :upto "
            "AND type_name IN ('user', 'bot', 'slot') ORDER BY id DESC LIMIT :limit"
        ),
        {"sender": sender_id, "upto": upto_id, "limit": SWEEP_HISTORY_EVENTS},
    ).all()
    events = []
    for row_id, data in reversed(rows):
        try:
            events.append((row_id, Event.from_parameters(json.loads(data))))
        except (ValueError, TypeError, KeyError):
            logger.warning("unreadable event %s for %s", row_id, sender_id)
    return events


def _profile_from(events: Sequence[Event]) -> Profile:
    from rasa.shared.core.events import SlotSet

    slots: dict[str, Any] = {}
    for event in events:
        if isinstance(event, SlotSet):
            slots[event.key] = event.value
    return Profile(slots.get("role"), slots.get("language"), slots.get("age_band"))


def sweep_after(session: Session, after_id: int, min_timestamp: float = 0.0) -> tuple[int, int]:
    """Record risk for user events stored after `after_id`: (last id seen, newly recorded).

    Idempotent (keys derive from the events), so running it beside the tracker store only
    ever fills gaps — a crash between storing a message and recording its case, say.
    """
    from sqlalchemy import text

    rows = session.execute(
        text(
            "SELECT id, sender_id FROM events WHERE id > :after AND type_name = 'user' "
            "AND timestamp >= :since ORDER BY id LIMIT 500"
        ),
        {"after": after_id, "since": min_timestamp},
    ).all()
    last, recorded = after_id, 0
    for row_id, sender_id in rows:
        history = _stored_events(session, sender_id, row_id)
        new = [event for stored_id, event in history if stored_id == row_id]
        events = [event for _, event in history]
        with session.begin_nested():
            recorded += len(record_messages(session, sender_id, events, new, _profile_from(events)))
        last = row_id
    return last, recorded


SWEEP_LOOKBACK_SECONDS = 24 * 3600
_cursor: dict[str, int] = {}


def sweep(url: str | None = None) -> int:
    """One pass of the alert worker's sweep; returns how many missed messages it recorded.

    The first pass after a start looks back a day, so messages stored while the worker was
    down are covered; later passes continue from the last event seen.
    """
    import time

    from sqlalchemy import inspect

    from bot.db.session import get_engine, session_scope

    if not inspect(get_engine(url)).has_table("events"):
        return 0  # Rasa has not stored anything yet
    key = url or ""
    since = 0.0 if key in _cursor else time.time() - SWEEP_LOOKBACK_SECONDS
    total = 0
    while True:
        with session_scope(url) as session:
            last, recorded = sweep_after(session, _cursor.get(key, 0), since)
        total += recorded
        if last == _cursor.get(key, 0):
            return total
        _cursor[key] = last
