"""Small builders for people, workers and cases (tests only)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from bot.db.models import Case, Person, Worker, WorkerAssignment


def worker(
    session: Session,
    username: str,
    chat_id: str | None = None,
    *,
    role: str = "social_worker",
    supervisor: Worker | None = None,
    on_call: bool = False,
    active: bool = True,
) -> Worker:
    row = Worker(
        username=username,
        display_name=username.title(),
        password_hash="x",
        role=role,
        telegram_chat_id=chat_id,
        on_call=on_call,
        active=active,
        supervisor_id=supervisor.id if supervisor else None,
    )
    session.add(row)
    session.flush()
    return row


def child(
    session: Session,
    sender_id: str = "tg:1001",
    *,
    role: str = "child",
    pseudonym: str = "小星",
    age_band: str = "11-12",
    village: str = "李庄村",
) -> Person:
    row = Person(
        sender_id=sender_id, role=role, pseudonym=pseudonym, age_band=age_band, village=village
    )
    session.add(row)
    session.flush()
    return row


def assign(session: Session, person: Person, to: Worker) -> None:
    session.add(WorkerAssignment(child_id=person.id, worker_id=to.id))
    session.flush()


def case(
    session: Session,
    person: Person | None = None,
    *,
    sender_id: str | None = None,
    category: str = "suicide",
    severity: str = "imminent",
    summary: str = "我不想活了",
    mandatory: bool = True,
    with_child: bool = True,
) -> Case:
    row = Case(
        kind="risk",
        sender_id=sender_id or (person.sender_id if person else "rest:x"),
        person_id=person.id if person else None,
        child_id=person.id if person and with_child else None,
        category=category,
        severity=severity,
        status="open",
        mandatory_report=mandatory,
        summary=summary,
    )
    session.add(row)
    session.flush()
    return row


def team(session: Session, *, worker_chat: str | None = "501", boss_chat: str | None = "900"):
    """A supervisor, their social worker, a child assigned to the worker."""
    boss = worker(session, "boss", boss_chat, role="supervisor")
    social = worker(session, "wang", worker_chat, supervisor=boss)
    kid = child(session)
    assign(session, kid, social)
    return boss, social, kid
