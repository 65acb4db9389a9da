"""The child's own record in our database: exercise runs, check-ins, plans to ask about.

Functions take an open SQLAlchemy session (the caller owns the transaction), so an action
does one `with db.session() as session:` per turn.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Optional

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.db.models import CheckIn, ExerciseRun, Person, utcnow

RESUMABLE = ("started", "stopped")
STATUS_BY_ENGINE = {"active": "started", "stopped": "stopped", "done": "done"}


def _channel_of(sender_id: str) -> str:
    return sender_id.split(":", 1)[0] if ":" in sender_id else "rest"


def person_for(session: Session, sender_id: str, role: Optional[str] = None) -> Person:
    """The pseudonymous person behind this conversation, created on first use."""
    person = session.execute(select(Person).where(Person.sender_id == sender_id)).scalar()
    if person is None:
        person = Person(sender_id=sender_id, channel=_channel_of(sender_id),
                        role=role if role in ("child", "guardian") else "unknown")
        session.add(person)
        session.flush()
    person.last_seen_at = utcnow()
    return person


def start_run(session: Session, sender_id: str, state: dict[str, Any],
              role: Optional[str] = None) -> int:
    person = person_for(session, sender_id, role)
    run = ExerciseRun(person_id=person.id, exercise=state["exercise"], status="started",
                      answers=_stored(state))
    session.add(run)
    session.flush()
    return int(run.id)


def save_run(session: Session, run_id: int, state: dict[str, Any],
             follow_up_hours: Optional[float] = None) -> None:
    """Mirror the engine state on the row: ratings, answers, status, follow-up time."""
    run = session.get(ExerciseRun, run_id)
    if run is None:
        return
    run.rating_before = state.get("rating_before")
    run.rating_after = state.get("rating_after")
    run.answers = _stored(state)
    run.status = STATUS_BY_ENGINE.get(state.get("status", "active"), "started")
    if run.status == "done" and run.finished_at is None:
        run.finished_at = utcnow()
        if follow_up_hours:
            run.follow_up_due_at = run.finished_at + dt.timedelta(hours=follow_up_hours)


def _stored(state: dict[str, Any]) -> dict[str, Any]:
    # The answers are the child's (e.g. a message to mum and dad); the state lets them
    # resume even when the conversation's slots are gone. Encrypted as a whole (EncryptedJSON).
    return {"answers": state.get("answers", {}), "state": state}


def resumable_state(session: Session, sender_id: str) -> Optional[dict[str, Any]]:
    """The state of the newest unfinished run of this child, if any."""
    person = session.execute(select(Person).where(Person.sender_id == sender_id)).scalar()
    if person is None:
        return None
    run = session.execute(
        select(ExerciseRun)
        .where(ExerciseRun.person_id == person.id)
        .order_by(ExerciseRun.started_at.desc(), ExerciseRun.id.desc())
        .limit(1)
    ).scalar()
    if run is None or run.status not in RESUMABLE or not isinstance(run.answers, dict):
        return None
    state = dict(run.answers.get("state") or {})
    if not state:
        return None
    state["run_id"] = run.id
    return state


def due_plan(session: Session, sender_id: str, now: Optional[dt.datetime] = None
             ) -> Optional[tuple[int, str]]:
    """(run id, plan) of the oldest problem-solving plan whose check-back is due."""
    now = now or utcnow()
    row = session.execute(
        select(ExerciseRun)
        .join(Person, Person.id == ExerciseRun.person_id)
        .where(
            Person.sender_id == sender_id,
            ExerciseRun.follow_up_due_at.is_not(None),
            ExerciseRun.follow_up_due_at <= now,
            ExerciseRun.followed_up_at.is_(None),
        )
        .order_by(ExerciseRun.follow_up_due_at)
        .limit(1)
    ).scalar()
    if row is None:
        return None
    plan = ((row.answers or {}).get("answers") or {}).get("plan") or {}
    text = plan.get("text") if isinstance(plan, dict) else str(plan)
    return (int(row.id), text or "")


def has_pending_plan(session: Session, sender_id: str) -> bool:
    """A plan not yet asked about, due or not (keeps the reminder slot alive)."""
    row = session.execute(
        select(ExerciseRun.id)
        .join(Person, Person.id == ExerciseRun.person_id)
        .where(
            Person.sender_id == sender_id,
            ExerciseRun.follow_up_due_at.is_not(None),
            ExerciseRun.followed_up_at.is_(None),
        )
        .limit(1)
    ).first()
    return row is not None


def mark_followed_up(session: Session, run_id: int) -> None:
    run = session.get(ExerciseRun, run_id)
    if run is not None and run.followed_up_at is None:
        run.followed_up_at = utcnow()


def add_checkin(session: Session, sender_id: str, score: int, role: Optional[str] = None
                ) -> CheckIn:
    person = person_for(session, sender_id, role)
    checkin = CheckIn(person_id=person.id, score=int(score), created_at=utcnow())
    session.add(checkin)
    session.flush()
    return checkin


def checkins_since(session: Session, person_id: int, since: dt.datetime) -> list[CheckIn]:
    return list(
        session.execute(
            select(CheckIn)
            .where(CheckIn.person_id == person_id, CheckIn.created_at >= since)
            .order_by(CheckIn.created_at, CheckIn.id)
        ).scalars()
    )


def runs_since(session: Session, person_id: int, since: dt.datetime) -> list[ExerciseRun]:
    return list(
        session.execute(
            select(ExerciseRun)
            .where(ExerciseRun.person_id == person_id, ExerciseRun.started_at >= since)
            .order_by(ExerciseRun.started_at, ExerciseRun.id)
        ).scalars()
    )
