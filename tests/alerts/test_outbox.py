"""Enqueueing: in the caller's transaction, idempotent, never storing the child's words."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select, text

from bot.alerts.outbox import build_alert_payload, enqueue_case_alert, enqueue_watch_note
from bot.alerts.texts import CATEGORY_LABELS, label
from bot.config import settings
from bot.db.models import Case, CaseEvent, Outbox
from bot.db.session import session_scope

from . import factories as f


def _rows(url: str) -> list[Outbox]:
    with session_scope(url) as s:
        return list(s.execute(select(Outbox).order_by(Outbox.id)).scalars())


def test_one_telegram_row_per_reachable_recipient(db_url: str) -> None:
    with session_scope(db_url) as s:
        boss, social, kid = f.team(s)
        case = f.case(s, kid)
        rows = enqueue_case_alert(s, case)
        case_id = case.id
        assert case.worker_id == social.id
        assert case.notify_due_at is not None  # the deadline is set with the first alert
    [row] = _rows(db_url)
    assert (row.channel, row.recipient, row.status, row.kind) == (
        "telegram",
        "501",
        "pending",
        "alert",
    )
    assert row.dedupe_key == f"case:{case_id}:alert:0:telegram:501"
    assert [r.id for r in rows] == [row.id]


def test_enqueue_twice_adds_nothing_and_keeps_the_transaction_usable(db_url: str) -> None:
    with session_scope(db_url) as s:
        boss, social, kid = f.team(s)
        case = f.case(s, kid)
        first = enqueue_case_alert(s, case)
        second = enqueue_case_alert(s, case)
        assert [r.id for r in first] == [r.id for r in second]
        s.add(CaseEvent(case_id=case.id, kind="note", text="still works"))
    with session_scope(db_url) as s:  # a later transaction (e.g. a retried save) too
        enqueue_case_alert(s, s.get(Case, case.id))
        assert s.execute(select(func.count(CaseEvent.id))).scalar() == 1
    assert len(_rows(db_url)) == 1


def test_rows_roll_back_with_the_callers_transaction(db_url: str) -> None:
    with pytest.raises(RuntimeError), session_scope(db_url) as s:
        boss, social, kid = f.team(s)
        enqueue_case_alert(s, f.case(s, kid))
        raise RuntimeError("the tracker store failed to save the message")
    assert _rows(db_url) == []


def test_webhook_row_when_configured(db_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ESCALATION_WEBHOOK_URL", "https://hooks.example.org/peiban?k=1")
    settings.cache_clear()
    with session_scope(db_url) as s:
        boss, social, kid = f.team(s)
        enqueue_case_alert(s, f.case(s, kid))
    channels = sorted((r.channel, r.recipient) for r in _rows(db_url))
    assert channels == [("telegram", "501"), ("webhook", "https://hooks.example.org/peiban?k=1")]


def test_without_any_linked_chat_rows_wait_and_the_next_level_is_tried(db_url: str) -> None:
    with session_scope(db_url) as s:
        boss, social, kid = f.team(s, worker_chat=None)
        case = f.case(s, kid)
        enqueue_case_alert(s, case)
        assert case.escalation_level == 2
    rows = _rows(db_url)
    assert [(r.kind, r.recipient, r.status) for r in rows] == [
        ("alert", None, "pending"),  # delivered to Wang once she links Telegram
        ("escalate", "900", "pending"),  # the supervisor hears now
    ]
    assert rows[0].dedupe_key.endswith(":telegram:unrouted")


def test_nobody_at_all_still_writes_rows(db_url: str) -> None:
    with session_scope(db_url) as s:
        enqueue_case_alert(s, f.case(s, f.child(s)))
    rows = _rows(db_url)
    assert rows and all(r.recipient is None and r.status == "pending" for r in rows)


def test_outbox_never_stores_the_childs_words(db_url: str) -> None:
    with session_scope(db_url) as s:
        boss, social, kid = f.team(s)
        enqueue_case_alert(s, f.case(s, kid, summary="秘密消息 secret words"))
        raw = s.execute(text("SELECT payload FROM outbox")).scalar()
        stored = s.execute(text("SELECT summary FROM cases")).scalar()
    assert "秘密" not in json.dumps(raw, ensure_ascii=False) and "secret" not in str(raw)
    assert "secret" not in stored  # encrypted at rest


def test_alert_text(db_url: str) -> None:
    with session_scope(db_url) as s:
        boss, social, kid = f.team(s)
        case = f.case(s, kid, summary='<script>alert("x")</script> 我想喝农药')
        enqueue_case_alert(s, case)
        payload = build_alert_payload(case)
    body = payload["text"]
    assert body.index("风险警报") < body.index("Risk alert")  # zh first
    assert label(CATEGORY_LABELS, "suicide").startswith("自杀风险")
    assert label(CATEGORY_LABELS, "suicide") in body and "紧急（正在发生） (imminent)" in body
    assert "小星" in body and "11-12" in body and "李庄村" in body
    assert "&lt;script&gt;" in body and "<script>" not in body
    assert (
        "依据强制报告制度，请向公安机关报告 / Mandatory reporting applies: report to police" in body
    )
    assert "Acknowledge by" in body and "北京时间" in body
    assert f"https://console.example.org/cases/{case.id}" in body
    assert payload["url"] == f"https://console.example.org/cases/{case.id}"
    assert payload["mandatory_report"] is True and payload["ack_due_at"].endswith("Z")


def test_no_mandatory_prompt_when_not_required(db_url: str) -> None:
    with session_scope(db_url) as s:
        boss, social, kid = f.team(s)
        case = f.case(s, kid, category="bullying", severity="high", mandatory=False)
        body = build_alert_payload(case)["text"]
    assert "强制报告" not in body and label(CATEGORY_LABELS, "bullying") in body


def test_upgrade_and_reminders_are_keyed_by_severity(db_url: str) -> None:
    with session_scope(db_url) as s:
        boss, social, kid = f.team(s)
        case = f.case(s, kid, severity="medium")
        enqueue_case_alert(s, case)
        enqueue_case_alert(s, case, kind="renotify", level=1)
        case.severity = "imminent"  # what bot/escalation.py does on a worse message
        enqueue_case_alert(s, case, kind="upgrade")
        enqueue_case_alert(s, case, kind="renotify", level=1)
    kinds = [r.dedupe_key.split(":")[2] for r in _rows(db_url)]
    assert kinds == ["alert", "renotify@medium", "upgrade@imminent", "renotify@imminent"]


def test_watch_note_one_open_per_child_single_notice(db_url: str) -> None:
    with session_scope(db_url) as s:
        boss, social, kid = f.team(s)
        first = enqueue_watch_note(s, kid, "三次打卡心情都是 1 / mood 1 three times")
        again = enqueue_watch_note(s, kid, "又一次 1 分 / another 1")
        assert first.id == again.id
        assert (first.kind, first.severity, first.notify_due_at) == ("watch", None, None)
        events = s.execute(select(CaseEvent).where(CaseEvent.case_id == first.id)).scalars()
        assert len(list(events)) == 2
    [row] = _rows(db_url)
    assert (row.kind, row.recipient) == ("watch", "501")


def test_guardian_concern_text(db_url: str) -> None:
    with session_scope(db_url) as s:
        boss, social, kid = f.team(s)
        grandma = f.child(s, "tg:7001", role="guardian", pseudonym="奶奶")
        case = Case(
            kind="concern",
            sender_id=grandma.sender_id,
            person_id=grandma.id,
            child_id=kid.id,
            category="concern",
            severity="medium",
            status="open",
            summary="孙子最近不爱说话",
        )
        s.add(case)
        enqueue_case_alert(s, case)
        body = build_alert_payload(case)["text"]
    assert "监护人关注 / Guardian concern" in body and "监护人 / guardian" in body
    assert "小星" in body and "孙子最近不爱说话" in body and "强制报告" not in body
