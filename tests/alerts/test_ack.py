"""Acknowledgement: one state for Telegram and console, idempotent, authorised, audited."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from bot.alerts.ack import NOT_ALLOWED, AckError, acknowledge_case, handle_telegram_callback
from bot.alerts.outbox import enqueue_case_alert
from bot.db.audit import verify
from bot.db.models import AuditLog, Case, CaseEvent, Outbox
from bot.db.session import session_scope

from . import factories as f


def _setup(url: str) -> int:
    with session_scope(url) as s:
        boss, social, kid = f.team(s)
        f.worker(s, "root", "1", role="admin")
        f.worker(s, "zhao", "77")  # another team's worker
        case = f.case(s, kid)
        enqueue_case_alert(s, case)
        enqueue_case_alert(s, case, kind="renotify", level=1)
        return case.id


def test_ack_is_idempotent_audited_and_cancels_reminders(db_url: str) -> None:
    case_id = _setup(db_url)
    with session_scope(db_url) as s:
        case = acknowledge_case(s, case_id, 2, "console")
        again = acknowledge_case(s, case_id, 2, "console")
        assert case.status == again.status == "acknowledged"
        assert case.acknowledged_by == 2 and case.notify_due_at is None
    with session_scope(db_url) as s:
        events = s.execute(select(CaseEvent).where(CaseEvent.kind == "ack")).scalars().all()
        audit = s.execute(select(AuditLog)).scalars().all()
        statuses = [r.status for r in s.execute(select(Outbox).order_by(Outbox.id)).scalars()]
        assert len(events) == 1 and events[0].data == {"via": "console"}
        assert [a.action for a in audit] == ["ack_case"] and audit[0].actor == "worker:2"
        assert verify(s) == (True, None)
    assert statuses == ["pending", "cancelled"]  # the alert itself still goes out


@pytest.mark.parametrize("chat", [501, 900, 1], ids=["worker", "supervisor", "admin"])
def test_callback_from_the_assigned_worker_the_supervisor_or_an_admin(
    db_url: str, chat: int
) -> None:
    case_id = _setup(db_url)
    with session_scope(db_url) as s:
        reply = handle_telegram_callback(s, chat, f"ack:{case_id}")
    assert reply.startswith(f"已确认接手个案 #{case_id}") and "reminders stopped" in reply


def test_second_tap_says_who_already_acknowledged(db_url: str) -> None:
    case_id = _setup(db_url)
    with session_scope(db_url) as s:
        handle_telegram_callback(s, 501, f"ack:{case_id}")
    with session_scope(db_url) as s:
        reply = handle_telegram_callback(s, 900, f"ack:{case_id}")
    assert "已由 Wang 确认接手" in reply and "already acknowledged by Wang" in reply
    with session_scope(db_url) as s:
        assert s.get(Case, case_id).acknowledged_by == 2


@pytest.mark.parametrize(
    "chat, data",
    [
        (77, "ack:{id}"),  # a worker of another team
        (12345, "ack:{id}"),  # not a worker at all (e.g. a child pressing a forwarded button)
        (501, "ack:999"),  # a guessed case id
    ],
)
def test_refused_callbacks_reveal_nothing(db_url: str, chat: int, data: str) -> None:
    case_id = _setup(db_url)
    with session_scope(db_url) as s:
        assert handle_telegram_callback(s, chat, data.format(id=case_id)) == NOT_ALLOWED
        assert s.get(Case, case_id).status == "open"


def test_malformed_callback_data(db_url: str) -> None:
    _setup(db_url)
    with session_scope(db_url) as s:
        assert "Unrecognised" in handle_telegram_callback(s, 501, "ack:abc")
        assert "Unrecognised" in handle_telegram_callback(s, 501, "nope")


def test_inactive_worker_cannot_ack(db_url: str) -> None:
    case_id = _setup(db_url)
    with session_scope(db_url) as s:
        f.worker(s, "gone", "55", active=False)
        with pytest.raises(PermissionError):  # what the console maps to "not allowed"
            acknowledge_case(s, case_id, 6, "console")
        with pytest.raises(LookupError):
            acknowledge_case(s, 999, 2, "console")
        with pytest.raises(AckError):
            acknowledge_case(s, 999, 6, "console")
