"""One-time, expiring codes: a worker's Telegram account, guardian ↔ child, child ↔ worker.

Only a SHA-256 of each code is stored, so a copy of the database cannot be used to link an
account. Codes are short enough to type on a phone (8 characters from an alphabet without
look-alikes: 31^8 ≈ 8.5·10^11), single use, and expire quickly; creating a new Telegram code
retires the worker's previous unused one.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import secrets

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from bot.db import audit
from bot.db.models import (
    GuardianLink,
    InviteCode,
    Person,
    Worker,
    WorkerAssignment,
    utcnow,
)

ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 8
TELEGRAM_TTL = dt.timedelta(minutes=15)
INVITE_TTL = dt.timedelta(days=3)
PURPOSES = ("worker_telegram", "guardian_child", "child_worker")
_CHAT_ID = re.compile(r"^-?\d{1,20}$")

REPLY_LINKED = (
    "已绑定：你将在这里收到陪伴的个案提醒（{username}）。\n"
    "Linked: Peiban case alerts for {username} will arrive in this chat."
)
REPLY_INVALID = (
    "这个绑定码无效或已过期。请在工作台“绑定 Telegram”页面重新生成。\n"
    "This link code is invalid or has expired. Create a new one on the console's "
    "“Link Telegram” page."
)
REPLY_DISABLED = "这个账户已停用，无法绑定。\nThis worker account is disabled and cannot be linked."


def new_code() -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH))


def normalise_code(code: str) -> str:
    """Forgive what people type: spaces, dashes and lower case."""
    return re.sub(r"[\s\-_]", "", (code or "")).upper()


def hash_code(purpose: str, code: str) -> str:
    return hashlib.sha256(f"{purpose}:{normalise_code(code)}".encode()).hexdigest()


def _find_usable(session: Session, purpose: str, code: str) -> InviteCode | None:
    normal = normalise_code(code)
    if len(normal) != CODE_LENGTH:
        return None
    row = session.execute(
        select(InviteCode).where(InviteCode.code_hash == hash_code(purpose, normal))
    ).scalar()
    if row is None or row.purpose != purpose:
        return None
    if row.used_at is not None or row.expires_at <= utcnow():
        return None
    return row


def create_telegram_link_code(session: Session, worker_id: int) -> str:
    """A fresh code for `/link CODE`; any earlier unused code of this worker stops working."""
    now = utcnow()
    session.execute(
        update(InviteCode)
        .where(
            InviteCode.purpose == "worker_telegram",
            InviteCode.worker_id == worker_id,
            InviteCode.used_at.is_(None),
            InviteCode.expires_at > now,
        )
        .values(expires_at=now)
        .execution_options(synchronize_session=False)
    )
    code = new_code()
    session.add(InviteCode(
        code_hash=hash_code("worker_telegram", code), purpose="worker_telegram",
        worker_id=worker_id, created_at=now, expires_at=now + TELEGRAM_TTL,
    ))
    session.flush()
    audit.record(session, f"worker:{worker_id}", "create_telegram_code", "worker", worker_id)
    return code


def redeem_telegram_code(session: Session, code: str, chat_id: int | str) -> str:
    """Link the Telegram chat that sent `/link CODE` to the code's worker; reply text (zh+en)."""
    chat = str(chat_id).strip()
    row = _find_usable(session, "worker_telegram", code)
    if row is None or not _CHAT_ID.match(chat):
        audit.record(session, f"telegram:{chat[:32]}", "telegram_link_failed", "worker", None)
        return REPLY_INVALID
    worker = session.get(Worker, row.worker_id)
    if worker is None or not worker.active:
        return REPLY_DISABLED
    # One chat, one worker: an acknowledge pressed in this chat must name a single person.
    for other in session.execute(
        select(Worker).where(Worker.telegram_chat_id == chat, Worker.id != worker.id)
    ).scalars():
        other.telegram_chat_id = None
        audit.record(session, "system", "telegram_unlinked", "worker", other.id,
                     {"reason": "relinked"})
    row.used_at = utcnow()
    worker.telegram_chat_id = chat
    audit.record(session, f"worker:{worker.id}", "telegram_linked", "worker", worker.id)
    return REPLY_LINKED.format(username=worker.username)


def unlink_telegram(session: Session, worker_id: int, actor: str) -> None:
    worker = session.get(Worker, worker_id)
    if worker is not None and worker.telegram_chat_id:
        worker.telegram_chat_id = None
        audit.record(session, actor, "telegram_unlinked", "worker", worker_id)


# --- guardian ↔ child ↔ worker invites ---------------------------------------------------


def create_invite_code(
    session: Session, purpose: str, *, child_id: int | None = None, worker_id: int | None = None,
    actor: str = "system", ttl: dt.timedelta = INVITE_TTL,
) -> str:
    """`guardian_child`: whoever redeems becomes a guardian of `child_id`.
    `child_worker`: whoever redeems is assigned to `worker_id`."""
    if purpose == "guardian_child" and child_id is None:
        raise ValueError("guardian_child codes need child_id")
    if purpose == "child_worker" and worker_id is None:
        raise ValueError("child_worker codes need worker_id")
    if purpose not in PURPOSES[1:]:
        raise ValueError(f"unknown purpose {purpose!r}")
    code = new_code()
    now = utcnow()
    session.add(InviteCode(
        code_hash=hash_code(purpose, code), purpose=purpose, child_id=child_id,
        worker_id=worker_id, created_at=now, expires_at=now + ttl,
    ))
    session.flush()
    audit.record(session, actor, "create_invite_code", "invite", None, {"purpose": purpose})
    return code


def redeem_invite_code(session: Session, code: str, person: Person) -> str | None:
    """Apply an invite code for `person`; return its purpose, or None if it is not usable."""
    for purpose in PURPOSES[1:]:
        row = _find_usable(session, purpose, code)
        if row is None:
            continue
        if purpose == "guardian_child":
            if row.child_id == person.id:
                return None
            exists = session.execute(select(GuardianLink).where(
                GuardianLink.guardian_id == person.id, GuardianLink.child_id == row.child_id
            )).scalar()
            if exists is None:
                session.add(GuardianLink(guardian_id=person.id, child_id=row.child_id))
        else:
            assignment = session.execute(
                select(WorkerAssignment).where(WorkerAssignment.child_id == person.id)
            ).scalar()
            if assignment is None:
                session.add(WorkerAssignment(child_id=person.id, worker_id=row.worker_id))
            else:
                assignment.worker_id = row.worker_id
        row.used_at = utcnow()
        row.used_by_person_id = person.id
        session.flush()
        audit.record(session, f"person:{person.id}", "redeem_invite_code", "person", person.id,
                     {"purpose": purpose})
        return purpose
    return None
