"""Who is linked to whom: guardians to children, children to social workers.

Codes are created and redeemed by `bot.staff.linking` (one-time, expiring, only a hash is
stored); this module adds what a chat needs around it: the person behind a sender id, a
limit on wrong guesses, and the contact each worker chose to share with families.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Optional

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.db import audit
from bot.db.models import (
    AuditLog,
    GuardianLink,
    InviteCode,
    Person,
    Worker,
    WorkerAssignment,
    utcnow,
)

# Wrong codes allowed per person per window: 31^8 codes make guessing hopeless at this rate.
MAX_FAILED_CODES = 5
FAILED_CODE_WINDOW = dt.timedelta(hours=1)
FAILED_CODE_ACTION = "invite_code_failed"
# Codes as people type them in a sentence: 8 characters of the code alphabet, maybe split
# 4+4 by a space or dash. Overlapping search (lookahead), so "code N4B8-MQTE" finds N4B8MQTE.
_CODE_IN_TEXT = (
    re.compile(r"(?<![A-Za-z0-9])([A-Za-z0-9]{8})(?![A-Za-z0-9])"),
    re.compile(r"(?<![A-Za-z0-9])(?=([A-Za-z0-9]{4}[\s\-_][A-Za-z0-9]{4})(?![A-Za-z0-9]))"),
)


@dataclass(frozen=True)
class WorkerContact:
    worker_id: int
    name: str
    contact: Optional[str]  # what the worker chose to share; None: nothing shared yet


@dataclass(frozen=True)
class RedeemResult:
    status: str  # linked_child | linked_worker | invalid | locked
    child_name: Optional[str] = None
    worker: Optional[WorkerContact] = None


def channel_of(sender_id: str) -> str:
    return sender_id.split(":", 1)[0] if ":" in sender_id else "rest"


def find_person(session: Session, sender_id: str) -> Optional[Person]:
    return session.execute(select(Person).where(Person.sender_id == sender_id)).scalar()


def ensure_person(
    session: Session, sender_id: str, role: Optional[str] = None, language: Optional[str] = None
) -> Person:
    """The pseudonymous profile of this sender, created when first needed."""
    person = find_person(session, sender_id)
    if person is None:
        person = Person(sender_id=sender_id, channel=channel_of(sender_id))
        session.add(person)
    if role in ("child", "guardian") and person.role in (None, "unknown"):
        person.role = role
    if language in ("zh", "en"):
        person.language = language
    session.flush()
    return person


def linked_children(session: Session, guardian: Person) -> list[Person]:
    return list(
        session.execute(
            select(Person)
            .join(GuardianLink, GuardianLink.child_id == Person.id)
            .where(GuardianLink.guardian_id == guardian.id)
            .order_by(GuardianLink.id)
        ).scalars()
    )


def assigned_worker(session: Session, child_id: int) -> Optional[Worker]:
    worker = session.execute(
        select(Worker)
        .join(WorkerAssignment, WorkerAssignment.worker_id == Worker.id)
        .where(WorkerAssignment.child_id == child_id)
    ).scalar()
    return worker if worker is not None and worker.active else None


def contact_of(worker: Worker) -> WorkerContact:
    contact = (worker.shared_contact or "").strip() or None
    return WorkerContact(worker.id, worker.display_name or worker.username, contact)


def workers_for(session: Session, person: Person) -> list[WorkerContact]:
    """The person's own worker (a child) and the workers of the children they look after."""
    ids = [person.id] + [child.id for child in linked_children(session, person)]
    found: dict[int, WorkerContact] = {}
    for person_id in ids:
        worker = assigned_worker(session, person_id)
        if worker is not None and worker.id not in found:
            found[worker.id] = contact_of(worker)
    return list(found.values())


def child_label(child: Person, index: int) -> str:
    return child.pseudonym or f"#{index + 1}"


def code_in_text(text: str) -> Optional[str]:
    """An invite code inside a sentence, for when the entity extractor missed it."""
    from bot.staff.linking import ALPHABET, normalise_code

    for pattern in _CODE_IN_TEXT:
        for match in pattern.finditer(text or ""):
            candidate = re.sub(r"[\s\-_]", "", match.group(1))
            if set(normalise_code(candidate)) <= set(ALPHABET) and _code_like(candidate, text):
                return candidate
    return None


def _code_like(candidate: str, text: str) -> bool:
    """Not an ordinary English word: has a digit, is typed in capitals, or sits in Chinese."""
    return (
        any(c.isdigit() for c in candidate)
        or candidate.isupper()
        or bool(re.search(r"[\u4e00-\u9fff]", text))
    )


def _recent_failures(session: Session, person: Person) -> int:
    since = utcnow() - FAILED_CODE_WINDOW
    return session.execute(
        select(func.count(AuditLog.id)).where(
            AuditLog.actor == f"person:{person.id}",
            AuditLog.action == FAILED_CODE_ACTION,
            AuditLog.created_at >= since,
        )
    ).scalar_one()


def redeem(session: Session, person: Person, code: str) -> RedeemResult:
    """Apply an invite code for this person (guardian ↔ child, or child ↔ worker)."""
    from bot.staff.linking import redeem_invite_code  # the console engineer's module

    if _recent_failures(session, person) >= MAX_FAILED_CODES:
        return RedeemResult("locked")
    purpose = redeem_invite_code(session, code, person)
    if purpose is None:
        audit.record(session, f"person:{person.id}", FAILED_CODE_ACTION, "person", person.id)
        return RedeemResult("invalid")
    if purpose == "guardian_child":
        if person.role in (None, "unknown"):
            person.role = "guardian"
        child = _child_of_last_code(session, person)
        return RedeemResult("linked_child", child_name=child.pseudonym if child else None)
    if person.role in (None, "unknown"):
        person.role = "child"
    worker = assigned_worker(session, person.id)
    return RedeemResult("linked_worker", worker=contact_of(worker) if worker else None)


def _child_of_last_code(session: Session, guardian: Person) -> Optional[Person]:
    """The child named by the code this guardian just used."""
    child_id = session.execute(
        select(InviteCode.child_id)
        .where(InviteCode.used_by_person_id == guardian.id, InviteCode.purpose == "guardian_child")
        .order_by(InviteCode.used_at.desc(), InviteCode.id.desc())
        .limit(1)
    ).scalar()
    return session.get(Person, child_id) if child_id is not None else None
