"""Create, list, disable and link staff accounts. Every change writes an audit row.

Functions take the caller's session so the change and its audit row commit together, and
raise `AccountError` (with a bilingual message) for anything the operator must fix.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.db import audit
from bot.db.models import (
    WORKER_ROLES,
    GuardianLink,
    Person,
    Worker,
    WorkerAssignment,
    utcnow,
)
from bot.staff import passwords

USERNAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{1,63}$")
CHAT_ID_RE = re.compile(r"^-?\d{1,20}$")
SENDER_RE = re.compile(r"^\S{1,128}$")


class AccountError(ValueError):
    """A problem the operator can fix (unknown user, weak password, bad role…)."""


@dataclass(frozen=True)
class WorkerSummary:
    id: int
    username: str
    role: str
    supervisor: str | None
    telegram_linked: bool
    on_call: bool
    active: bool
    locked: bool
    children: int


def get_worker(session: Session, username: str) -> Worker:
    worker = session.execute(select(Worker).where(Worker.username == username)).scalar()
    if worker is None:
        raise AccountError(f"没有这个账户 / no such worker: {username}")
    return worker


def _check_password(password: str, username: str) -> None:
    problem = passwords.password_problem(password, username)
    if problem:
        raise AccountError(passwords.PROBLEM_TEXT[problem])


def _check_chat_id(chat_id: str | None) -> str | None:
    if chat_id is None or chat_id == "":
        return None
    chat_id = str(chat_id).strip()
    if not CHAT_ID_RE.match(chat_id):
        raise AccountError(f"Telegram chat id 必须是数字 / must be a number: {chat_id}")
    return chat_id


def create_worker(
    session: Session,
    username: str,
    password: str,
    *,
    role: str = "social_worker",
    telegram_chat_id: str | None = None,
    supervisor: str | None = None,
    on_call: bool = False,
    display_name: str | None = None,
    actor: str = "cli",
) -> Worker:
    if not USERNAME_RE.match(username or ""):
        raise AccountError(
            "用户名只能用字母、数字、_ . -（2–64 个字符）/ username: 2–64 letters, digits, _ . -"
        )
    if role not in WORKER_ROLES:
        raise AccountError(f"角色必须是 / role must be one of: {', '.join(WORKER_ROLES)}")
    # Logins match usernames case-insensitively (phones capitalise the first letter).
    exists = session.execute(
        select(Worker.id).where(func.lower(Worker.username) == username.lower())
    ).scalar()
    if exists is not None:
        raise AccountError(f"账户已存在 / worker already exists: {username}")
    _check_password(password, username)
    boss = get_worker(session, supervisor) if supervisor else None
    worker = Worker(
        username=username,
        display_name=display_name,
        password_hash=passwords.hash_password(password),
        role=role,
        telegram_chat_id=_check_chat_id(telegram_chat_id),
        supervisor_id=boss.id if boss else None,
        on_call=on_call,
    )
    session.add(worker)
    session.flush()
    audit.record(session, actor, "create_worker", "worker", worker.id, {
        "username": username, "role": role, "supervisor": supervisor, "on_call": on_call,
        "telegram_linked": worker.telegram_chat_id is not None,
    })
    return worker


def list_workers(session: Session) -> list[WorkerSummary]:
    workers = session.execute(select(Worker).order_by(Worker.username)).scalars().all()
    names = {w.id: w.username for w in workers}
    counts: dict[int, int] = {}
    for (worker_id,) in session.execute(select(WorkerAssignment.worker_id)):
        counts[worker_id] = counts.get(worker_id, 0) + 1
    now = utcnow()
    return [
        WorkerSummary(
            id=w.id, username=w.username, role=w.role,
            supervisor=names.get(w.supervisor_id) if w.supervisor_id else None,
            telegram_linked=bool(w.telegram_chat_id), on_call=bool(w.on_call),
            active=bool(w.active), locked=bool(w.locked_until and w.locked_until > now),
            children=counts.get(w.id, 0),
        )
        for w in workers
    ]


def set_active(session: Session, username: str, active: bool, *, actor: str = "cli") -> Worker:
    worker = get_worker(session, username)
    worker.active = active
    action = "enable_worker" if active else "disable_worker"
    audit.record(session, actor, action, "worker", worker.id)
    return worker


def reset_password(session: Session, username: str, password: str, *, actor: str = "cli") -> Worker:
    """New password; also lifts a lockout. Changing the hash ends the worker's sessions."""
    worker = get_worker(session, username)
    _check_password(password, username)
    worker.password_hash = passwords.hash_password(password)
    worker.failed_logins = 0
    worker.locked_until = None
    audit.record(session, actor, "reset_password", "worker", worker.id)
    return worker


def unlock(session: Session, username: str, *, actor: str = "cli") -> Worker:
    worker = get_worker(session, username)
    worker.failed_logins = 0
    worker.locked_until = None
    audit.record(session, actor, "unlock_worker", "worker", worker.id)
    return worker


def set_contact(session: Session, username: str, text: str, *, actor: str = "cli") -> Worker:
    """What guardians may see when they ask who their social worker is."""
    worker = get_worker(session, username)
    text = (text or "").strip()
    if len(text) > 255:
        raise AccountError("联系方式最多 255 个字符 / contact text: at most 255 characters")
    worker.shared_contact = text or None
    audit.record(session, actor, "set_contact", "worker", worker.id)
    return worker


def set_supervisor(session: Session, username: str, supervisor: str | None, *,
                   actor: str = "cli") -> Worker:
    worker = get_worker(session, username)
    boss = get_worker(session, supervisor) if supervisor else None
    if boss is not None and boss.id == worker.id:
        raise AccountError("不能做自己的督导 / a worker cannot supervise themselves")
    worker.supervisor_id = boss.id if boss else None
    audit.record(session, actor, "set_supervisor", "worker", worker.id, {"supervisor": supervisor})
    return worker


def set_role(session: Session, username: str, role: str, *, actor: str = "cli") -> Worker:
    if role not in WORKER_ROLES:
        raise AccountError(f"角色必须是 / role must be one of: {', '.join(WORKER_ROLES)}")
    worker = get_worker(session, username)
    worker.role = role
    audit.record(session, actor, "set_role", "worker", worker.id, {"role": role})
    return worker


def set_on_call(session: Session, username: str, on_call: bool, *, actor: str = "cli") -> Worker:
    worker = get_worker(session, username)
    worker.on_call = on_call
    audit.record(session, actor, "set_on_call", "worker", worker.id, {"on_call": on_call})
    return worker


def person_for_sender(session: Session, sender_id: str, *, role: str = "unknown",
                      actor: str = "cli") -> Person:
    """The Person for a conversation's sender id, created (pseudonymous, role unknown) if new."""
    sender_id = (sender_id or "").strip()
    if not SENDER_RE.match(sender_id):
        raise AccountError(
            "sender id 不能为空或含空格 / sender id must be 1–128 non-space characters"
        )
    person = session.execute(select(Person).where(Person.sender_id == sender_id)).scalar()
    if person is None:
        # Same rule as the channels: "telegram:123" → telegram, "web:…" → web, else rest.
        channel = sender_id.split(":", 1)[0][:32] if ":" in sender_id else "rest"
        person = Person(sender_id=sender_id, role=role, channel=channel)
        session.add(person)
        session.flush()
        audit.record(session, actor, "create_person", "person", person.id, {"role": role})
    return person


def assign(session: Session, sender_id: str, username: str, *,
           actor: str = "cli") -> WorkerAssignment:
    """Make `username` the worker responsible for the child who writes as `sender_id`."""
    worker = get_worker(session, username)
    if not worker.active:
        raise AccountError(f"账户已停用 / worker is disabled: {username}")
    person = person_for_sender(session, sender_id, actor=actor)
    assignment = session.execute(
        select(WorkerAssignment).where(WorkerAssignment.child_id == person.id)
    ).scalar()
    previous = assignment.worker_id if assignment else None
    if assignment is None:
        assignment = WorkerAssignment(child_id=person.id, worker_id=worker.id)
        session.add(assignment)
    else:
        assignment.worker_id = worker.id
        assignment.assigned_at = utcnow()
    session.flush()
    audit.record(session, actor, "assign_child", "person", person.id, {
        "worker_id": worker.id, "previous_worker_id": previous,
    })
    return assignment


def link_guardian(
    session: Session, guardian_sender: str, child_sender: str, *, relation: str | None = None,
    actor: str = "cli",
) -> GuardianLink:
    """Record that one person looks after a child. New people get the implied role;
    existing people keep theirs (onboarding may already have asked)."""
    if guardian_sender.strip() == child_sender.strip():
        raise AccountError("监护人和孩子不能是同一个人 / guardian and child must differ")
    guardian = person_for_sender(session, guardian_sender, role="guardian", actor=actor)
    child = person_for_sender(session, child_sender, role="child", actor=actor)
    link = session.execute(
        select(GuardianLink).where(
            GuardianLink.guardian_id == guardian.id, GuardianLink.child_id == child.id
        )
    ).scalar()
    if link is None:
        link = GuardianLink(guardian_id=guardian.id, child_id=child.id, relation=relation)
        session.add(link)
        session.flush()
        audit.record(session, actor, "link_guardian", "person", child.id,
                     {"guardian_id": guardian.id})
    return link
