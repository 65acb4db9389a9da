"""Acknowledging a case: one state change shared by the Telegram button and the console."""

from __future__ import annotations

from typing import Literal

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from bot.db.audit import record
from bot.db.models import Case, CaseEvent, Outbox, Worker, utcnow

from .routing import may_act_on

Via = Literal["telegram", "console"]
# Reminders that make no sense once someone has taken the case.
CANCELLED_ON_ACK = ("renotify", "escalate")


class AckError(Exception):
    """The case does not exist, or the worker may not acknowledge it."""


class CaseNotFound(AckError, LookupError):
    pass


class WorkerNotAllowed(AckError, PermissionError):
    pass


def acknowledge_case(session: Session, case_id: int, worker_id: int, via: Via) -> Case:
    """Mark the case acknowledged by the worker (idempotent) and stop re-notification.

    Authorisation is the caller's (the console has its own rules, Telegram uses may_act_on);
    this only refuses unknown cases and inactive workers.
    """
    case = session.get(Case, case_id)
    worker = session.get(Worker, worker_id)
    if case is None:
        raise CaseNotFound(f"case {case_id} not found")
    if worker is None or not worker.active:
        raise WorkerNotAllowed(f"worker {worker_id} is not active")
    now = utcnow()
    # Conditional UPDATE: a Telegram tap and a console click at once record one ack, not two.
    won = session.execute(
        update(Case)
        .where(Case.id == case_id, Case.status == "open")
        .values(
            status="acknowledged",
            acknowledged_at=now,
            acknowledged_by=worker_id,
            notify_due_at=None,
            updated_at=now,
        )
        .execution_options(synchronize_session=False)
    ).rowcount
    if won:
        _record_ack(session, case_id, worker_id, via)
    session.refresh(case)
    return case


def _record_ack(session: Session, case_id: int, worker_id: int, via: str) -> None:
    session.add(CaseEvent(case_id=case_id, kind="ack", worker_id=worker_id, data={"via": via}))
    cancelled = session.execute(
        update(Outbox)
        .where(
            Outbox.case_id == case_id, Outbox.status == "pending", Outbox.kind.in_(CANCELLED_ON_ACK)
        )
        .values(status="cancelled", last_error="case acknowledged")
        .execution_options(synchronize_session=False)
    ).rowcount
    record(
        session,
        f"worker:{worker_id}",
        "ack_case",
        "case",
        case_id,
        {"via": via, "reminders_cancelled": cancelled},
    )


def _reply(zh: str, en: str) -> str:
    return f"{zh}\n{en}"


NOT_ALLOWED = _reply(
    "无法处理：你没有此个案的权限，或个案不存在。",
    "Not possible: you cannot act on this case, or it does not exist.",
)


def _worker_by_chat(session: Session, chat_id: int | str) -> Worker | None:
    return (
        session.execute(
            select(Worker).where(Worker.telegram_chat_id == str(chat_id), Worker.active.is_(True))
        )
        .scalars()
        .first()
    )


def _parse(data: str) -> int | None:
    prefix, _, rest = (data or "").partition(":")
    return int(rest) if prefix == "ack" and rest.isdigit() else None


def handle_telegram_callback(session: Session, chat_id: int | str, data: str) -> str:
    """Callback data `ack:<case id>` from a worker's chat → the text to show them (zh, en).

    Unknown chats, unknown cases and cases the worker may not see get the same answer, so a
    guessed id reveals nothing.
    """
    case_id = _parse(data)
    if case_id is None:
        return _reply("无法识别的操作。", "Unrecognised action.")
    worker = _worker_by_chat(session, chat_id)
    case = session.get(Case, case_id)
    if worker is None or case is None or not may_act_on(session, worker, case):
        return NOT_ALLOWED
    before = case.status
    case = acknowledge_case(session, case_id, worker.id, "telegram")
    if before == "open" and case.acknowledged_by == worker.id:
        return _reply(
            f"已确认接手个案 #{case_id}，提醒已停止。请尽快联系孩子。",
            f"Case #{case_id} acknowledged; reminders stopped. Please contact the child soon.",
        )
    return _already(session, case)


def _already(session: Session, case: Case) -> str:
    if case.status == "resolved":
        return _reply(f"个案 #{case.id} 已结案。", f"Case #{case.id} is already resolved.")
    by = session.get(Worker, case.acknowledged_by) if case.acknowledged_by else None
    name = (by.display_name or by.username) if by else "—"
    return _reply(
        f"个案 #{case.id} 已由 {name} 确认接手。",
        f"Case #{case.id} was already acknowledged by {name}.",
    )
