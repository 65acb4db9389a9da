"""Our own data: pseudonymous people, links, consent, check-ins, cases, outbox, audit.

Rasa's tracker tables live in the same database but are owned by Rasa; these are ours and
are created only by Alembic migrations (`bot/db/migrations`).
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import declarative_base, relationship
from sqlalchemy.types import TypeDecorator

from bot.db import crypto

Base = declarative_base()


def utcnow() -> dt.datetime:
    """Naive UTC timestamps: SQLite has no time zones, so we store UTC everywhere."""
    return dt.datetime.utcnow()


class EncryptedText(TypeDecorator):
    """Text encrypted with the data key before it reaches the database."""

    impl = Text
    cache_ok = True

    def process_bind_param(self, value: str | None, dialect: Any) -> str | None:
        return None if value is None else crypto.encrypt(value)

    def process_result_value(self, value: str | None, dialect: Any) -> str | None:
        return None if value is None else crypto.decrypt(value)


class EncryptedJSON(TypeDecorator):
    """JSON encrypted as a whole (answers in exercises, case context)."""

    impl = Text
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Any) -> str | None:
        if value is None:
            return None
        return crypto.encrypt(json.dumps(value, ensure_ascii=False))

    def process_result_value(self, value: str | None, dialect: Any) -> Any:
        if value is None:
            return None
        try:
            return json.loads(crypto.decrypt(value))
        except ValueError:
            return None


# --- people -----------------------------------------------------------------------------

PERSON_ROLES = ("child", "guardian", "unknown")
AGE_BANDS = ("8-10", "11-12", "13-15")
WORKER_ROLES = ("social_worker", "supervisor", "admin")


class Person(Base):
    """A child or guardian who talks to Peiban, known only by a channel sender id."""

    __tablename__ = "people"

    id = Column(Integer, primary_key=True)
    sender_id = Column(String(128), nullable=False, unique=True)
    channel = Column(String(32), nullable=False, default="rest")
    role = Column(String(16), nullable=False, default="unknown")
    language = Column(String(8), nullable=False, default="zh")
    age_band = Column(String(8))
    pseudonym = Column(String(64))
    village = Column(String(64))
    created_at = Column(DateTime, nullable=False, default=utcnow)
    updated_at = Column(DateTime, nullable=False, default=utcnow, onupdate=utcnow)
    last_seen_at = Column(DateTime, default=utcnow)

    assignment = relationship("WorkerAssignment", back_populates="child", uselist=False)


class Worker(Base):
    """A social worker, village child director, supervisor or admin."""

    __tablename__ = "workers"

    id = Column(Integer, primary_key=True)
    username = Column(String(64), nullable=False, unique=True)
    display_name = Column(String(64))
    password_hash = Column(String(255), nullable=False)
    role = Column(String(16), nullable=False, default="social_worker")
    telegram_chat_id = Column(String(32))
    supervisor_id = Column(Integer, ForeignKey("workers.id"))
    shared_contact = Column(String(255))  # what guardians may see ("王老师 138…")
    on_call = Column(Boolean, nullable=False, default=False)
    active = Column(Boolean, nullable=False, default=True)
    failed_logins = Column(Integer, nullable=False, default=0)
    locked_until = Column(DateTime)
    created_at = Column(DateTime, nullable=False, default=utcnow)

    supervisor = relationship("Worker", remote_side=[id])


class WorkerAssignment(Base):
    """The social worker responsible for a child (one at a time)."""

    __tablename__ = "worker_assignments"

    id = Column(Integer, primary_key=True)
    child_id = Column(Integer, ForeignKey("people.id"), nullable=False, unique=True)
    worker_id = Column(Integer, ForeignKey("workers.id"), nullable=False)
    assigned_at = Column(DateTime, nullable=False, default=utcnow)

    child = relationship("Person", back_populates="assignment")
    worker = relationship("Worker")


class GuardianLink(Base):
    """A guardian who looks after a child (grandparent, relative)."""

    __tablename__ = "guardian_links"
    __table_args__ = (UniqueConstraint("guardian_id", "child_id"),)

    id = Column(Integer, primary_key=True)
    guardian_id = Column(Integer, ForeignKey("people.id"), nullable=False)
    child_id = Column(Integer, ForeignKey("people.id"), nullable=False)
    relation = Column(String(32))
    created_at = Column(DateTime, nullable=False, default=utcnow)


class InviteCode(Base):
    """One-time, expiring code that links a guardian to a child or a person to a worker."""

    __tablename__ = "invite_codes"

    id = Column(Integer, primary_key=True)
    code_hash = Column(String(128), nullable=False, unique=True)
    purpose = Column(String(32), nullable=False)  # guardian_child | child_worker | worker_telegram
    child_id = Column(Integer, ForeignKey("people.id"))
    worker_id = Column(Integer, ForeignKey("workers.id"))
    created_at = Column(DateTime, nullable=False, default=utcnow)
    expires_at = Column(DateTime, nullable=False)
    used_at = Column(DateTime)
    used_by_person_id = Column(Integer, ForeignKey("people.id"))


class Consent(Base):
    """A guardian's consent for processing a child's data (PIPL: under-14s)."""

    __tablename__ = "consents"

    id = Column(Integer, primary_key=True)
    child_id = Column(Integer, ForeignKey("people.id"), nullable=False)
    guardian_id = Column(Integer, ForeignKey("people.id"))
    scope = Column(String(32), nullable=False, default="companion")
    granted_at = Column(DateTime, nullable=False, default=utcnow)
    revoked_at = Column(DateTime)


# --- the child's own progress -----------------------------------------------------------


class CheckIn(Base):
    """A mood check-in on a 1-5 scale."""

    __tablename__ = "checkins"
    __table_args__ = (Index("ix_checkins_person_time", "person_id", "created_at"),)

    id = Column(Integer, primary_key=True)
    person_id = Column(Integer, ForeignKey("people.id"), nullable=False)
    score = Column(Integer, nullable=False)
    note = Column(EncryptedText)
    created_at = Column(DateTime, nullable=False, default=utcnow)


class ExerciseRun(Base):
    """One run of a coping exercise, with the feeling rating before and after."""

    __tablename__ = "exercise_runs"
    __table_args__ = (Index("ix_exercise_runs_person_time", "person_id", "started_at"),)

    id = Column(Integer, primary_key=True)
    person_id = Column(Integer, ForeignKey("people.id"), nullable=False)
    exercise = Column(String(48), nullable=False)
    status = Column(String(16), nullable=False, default="started")  # started|stopped|done
    rating_before = Column(Integer)
    rating_after = Column(Integer)
    answers = Column(EncryptedJSON)  # kept for the child (e.g. a message to mum and dad)
    follow_up_due_at = Column(DateTime)  # problem-solving: ask next time how the plan went
    followed_up_at = Column(DateTime)
    started_at = Column(DateTime, nullable=False, default=utcnow)
    finished_at = Column(DateTime)


# --- cases and alerts -------------------------------------------------------------------

CASE_KINDS = ("risk", "concern", "watch")
CASE_STATUSES = ("open", "acknowledged", "resolved")
OPEN_STATUSES = CASE_STATUSES[:2]  # a human has not closed it yet


class Case(Base):
    """Something a human must look at: a risk disclosure, a guardian's concern, a watch note."""

    __tablename__ = "cases"
    __table_args__ = (
        Index("ix_cases_status_severity", "status", "severity"),
        Index("ix_cases_sender_status", "sender_id", "status"),
        # Console queues: a worker's cases, and each queue in order, without reading the rows.
        Index("ix_cases_worker_status", "worker_id", "status", "kind"),
        Index("ix_cases_kind_status", "kind", "status", "severity", "created_at"),
    )

    id = Column(Integer, primary_key=True)
    kind = Column(String(16), nullable=False, default="risk")
    sender_id = Column(String(128), nullable=False)
    person_id = Column(Integer, ForeignKey("people.id"))
    child_id = Column(Integer, ForeignKey("people.id"))  # the child it is about, when known
    category = Column(String(32))
    severity = Column(String(16))
    status = Column(String(16), nullable=False, default="open")
    mandatory_report = Column(Boolean, nullable=False, default=False)
    worker_id = Column(Integer, ForeignKey("workers.id"))
    source_key = Column(String(160), unique=True)  # idempotency: the event that opened it
    summary = Column(EncryptedText)  # the triggering message
    context = Column(EncryptedJSON)  # recent conversation turns
    evidence = Column(JSON)
    escalation_level = Column(Integer, nullable=False, default=0)
    notify_due_at = Column(DateTime)  # re-notify when not acknowledged by then
    created_at = Column(DateTime, nullable=False, default=utcnow)
    updated_at = Column(DateTime, nullable=False, default=utcnow, onupdate=utcnow)
    acknowledged_at = Column(DateTime)
    acknowledged_by = Column(Integer, ForeignKey("workers.id"))
    resolved_at = Column(DateTime)
    outcome = Column(String(64))

    events = relationship("CaseEvent", back_populates="case", order_by="CaseEvent.id")
    worker = relationship("Worker", foreign_keys=[worker_id])


class CaseEvent(Base):
    """Everything that happens to a case: messages appended, notes, contacts, changes."""

    __tablename__ = "case_events"
    __table_args__ = (Index("ix_case_events_case", "case_id", "id"),)

    id = Column(Integer, primary_key=True)
    case_id = Column(Integer, ForeignKey("cases.id"), nullable=False)
    kind = Column(String(24), nullable=False)  # message|note|contact|visit|ack|severity|…
    text = Column(EncryptedText)
    data = Column(JSON)
    worker_id = Column(Integer, ForeignKey("workers.id"))
    event_key = Column(String(160), unique=True)  # idempotency for appended messages
    created_at = Column(DateTime, nullable=False, default=utcnow)

    case = relationship("Case", back_populates="events")


# cancelled: a reminder made pointless by an acknowledgement, or a row another one covers
OUTBOX_STATUSES = ("pending", "sending", "sent", "failed", "cancelled")


class Outbox(Base):
    """An alert to deliver. Written in the same transaction as the case; never lost."""

    __tablename__ = "outbox"
    __table_args__ = (
        Index("ix_outbox_due", "status", "next_attempt_at"),
        Index("ix_outbox_worker_case", "worker_id", "case_id"),  # console: cases I was alerted to
    )

    id = Column(Integer, primary_key=True)
    case_id = Column(Integer, ForeignKey("cases.id"))
    channel = Column(String(16), nullable=False)  # telegram | webhook
    recipient = Column(String(255))  # chat id or URL; resolved at send time when empty
    worker_id = Column(Integer, ForeignKey("workers.id"))
    kind = Column(String(24), nullable=False, default="alert")  # alert|renotify|escalate|watch
    payload = Column(JSON, nullable=False)
    dedupe_key = Column(String(200), nullable=False, unique=True)
    status = Column(String(16), nullable=False, default="pending")
    attempts = Column(Integer, nullable=False, default=0)
    next_attempt_at = Column(DateTime, nullable=False, default=utcnow)
    claimed_until = Column(DateTime)
    last_error = Column(Text)
    created_at = Column(DateTime, nullable=False, default=utcnow)
    sent_at = Column(DateTime)
    provider_message_id = Column(String(64))


class AuditLog(Base):
    """Append-only, hash-chained record of every human access and change."""

    __tablename__ = "audit_log"

    id = Column(Integer, primary_key=True)
    created_at = Column(DateTime, nullable=False, default=utcnow)
    actor = Column(String(96), nullable=False)  # "worker:3", "system", "cli"
    action = Column(String(48), nullable=False)  # view_case, ack_case, login, …
    target_type = Column(String(32))
    target_id = Column(String(64))
    detail = Column(JSON)
    prev_hash = Column(String(64))
    hash = Column(String(64), nullable=False)
