"""Small builders for the guardian tests (people, workers, links)."""

from __future__ import annotations

from typing import Optional

from sqlalchemy.orm import Session

from bot.db.models import GuardianLink, Person, Worker, WorkerAssignment


def worker(
    session: Session,
    username: str,
    *,
    contact: Optional[str] = None,
    chat_id: Optional[str] = None,
    role: str = "social_worker",
    on_call: bool = False,
) -> Worker:
    row = Worker(
        username=username,
        display_name=username.title(),
        password_hash="x",
        role=role,
        telegram_chat_id=chat_id,
        shared_contact=contact,
        on_call=on_call,
    )
    session.add(row)
    session.flush()
    return row


def person(session: Session, sender_id: str, role: str, pseudonym: Optional[str] = None) -> Person:
    row = Person(sender_id=sender_id, role=role, pseudonym=pseudonym)
    session.add(row)
    session.flush()
    return row


def link(session: Session, guardian: Person, child: Person) -> None:
    session.add(GuardianLink(guardian_id=guardian.id, child_id=child.id, relation="grandparent"))
    session.flush()


def assign(session: Session, child: Person, to: Worker) -> None:
    session.add(WorkerAssignment(child_id=child.id, worker_id=to.id))
    session.flush()
