"""The durable half of the safety path: message, case and alert rows commit together."""

from __future__ import annotations

import asyncio
import sqlite3
import time
from pathlib import Path

import pytest
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import BotUttered, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from bot.db.tracker_store import PeibanTrackerStore

ROOT = Path(__file__).resolve().parents[2]


def risk(escalate: bool, category: str | None = None, severity: str | None = None) -> dict:
    return {
        "escalate": escalate,
        "category": category,
        "severity": severity,
        "evidence": ["test"] if escalate else [],
        "signals": [],
    }


def user(text: str, marks: dict, at: float) -> UserUttered:
    intent = "risk_disclosure" if marks["escalate"] else "feel_sad"
    return UserUttered(
        text,
        {"name": intent, "confidence": 1.0},
        parse_data={"intent": {"name": intent, "confidence": 1.0}, "risk": marks, "text": text},
        timestamp=at,
    )


@pytest.fixture()
def db(db_url: str) -> str:
    """The shared migrated database, with one on-call worker reachable on Telegram."""
    with sqlite3.connect(db_url.split("///", 1)[1]) as connection:
        connection.execute(
            "insert into workers (username, password_hash, role, telegram_chat_id, on_call, active,"
            " failed_logins, created_at) values ('w', 'x', 'social_worker', '42', 1, 1, 0,"
            " '2026-01-01 00:00:00')"
        )
    return db_url


def store_for(url: str) -> PeibanTrackerStore:
    return PeibanTrackerStore(domain=Domain.load(str(ROOT / "domain.yml")), url=url)


def rows(url: str, sql: str) -> list[tuple]:
    with sqlite3.connect(url.split("///", 1)[1]) as connection:
        return connection.execute(sql).fetchall()


def test_disclosure_creates_one_case_and_outbox_row_with_the_events(db: str) -> None:
    store = store_for(db)
    tracker = DialogueStateTracker.from_events(
        "kid-1",
        [
            user("今天好累", risk(False), 1.0),
            BotUttered("你辛苦了", timestamp=1.5),
            user("我不想活了", risk(True, "suicide", "high"), 2.0),
        ],
    )
    asyncio.run(store.save(tracker))
    cases = rows(
        db, "select kind, category, severity, status, mandatory_report, worker_id from cases"
    )
    assert cases == [("risk", "suicide", "high", "open", 1, 1)]
    assert rows(db, "select channel, recipient, status from outbox") == [
        ("telegram", "42", "pending")
    ]
    assert rows(db, "select count(*) from events where type_name = 'user'") == [(2,)]


def test_saving_again_adds_nothing_and_later_messages_are_appended(db: str) -> None:
    store = store_for(db)
    events = [user("我不想活了", risk(True, "suicide", "high"), 1.0)]
    tracker = DialogueStateTracker.from_events("kid-2", events)
    asyncio.run(store.save(tracker))
    asyncio.run(store.save(tracker))
    tracker.update(user("我好害怕", risk(False), 2.0))
    asyncio.run(store.save(tracker))
    assert rows(db, "select count(*) from cases") == [(1,)]
    assert rows(db, "select count(*) from outbox") == [(1,)]
    assert rows(db, "select kind from case_events") == [("message",)]


def test_a_worse_message_raises_the_case_and_alerts_again(db: str) -> None:
    store = store_for(db)
    tracker = DialogueStateTracker.from_events(
        "kid-3", [user("他们老是堵我", risk(True, "bullying", "medium"), 1.0)]
    )
    asyncio.run(store.save(tracker))
    tracker.update(user("我已经吃了一瓶药", risk(True, "suicide", "imminent"), 2.0))
    asyncio.run(store.save(tracker))
    assert rows(db, "select category, severity from cases") == [("suicide", "imminent")]
    assert rows(db, "select count(*) from outbox") == [(2,)]


def test_case_text_is_encrypted_at_rest(db: str) -> None:
    store = store_for(db)
    tracker = DialogueStateTracker.from_events(
        "kid-4", [user("叔叔让我不要告诉别人", risk(True, "sexual_abuse", "high"), 1.0)]
    )
    asyncio.run(store.save(tracker))
    (summary,) = rows(db, "select summary from cases")[0]
    assert "叔叔" not in summary


def test_a_failing_case_writer_never_loses_the_message(
    db: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    import bot.db.tracker_store as module

    def broken(*_args, **_kwargs):
        raise RuntimeError("simulated failure")

    monkeypatch.setattr(module, "record_messages", broken)
    store = store_for(db)
    tracker = DialogueStateTracker.from_events(
        "kid-5", [user("我不想活了", risk(True, "suicide", "high"), 1.0)]
    )
    asyncio.run(store.save(tracker))
    assert rows(db, "select count(*) from events where sender_id = 'kid-5'") == [(1,)]
    assert rows(db, "select count(*) from cases") == [(0,)]


def test_the_sweep_fills_a_gap_left_by_a_failed_case_writer(
    db: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    import bot.db.tracker_store as module
    from bot.db.session import session_scope
    from bot.escalation import sweep, sweep_after

    monkeypatch.setattr(module, "record_messages", lambda *a, **k: 1 / 0)
    store = store_for(db)
    tracker = DialogueStateTracker.from_events(
        "kid-6",
        [user("没人要我了，我想从楼顶跳下去", risk(True, "suicide", "imminent"), time.time())],
    )
    asyncio.run(store.save(tracker))
    assert rows(db, "select count(*) from cases") == [(0,)]
    assert sweep(db) == 1
    assert sweep(db) == 0
    with session_scope(db) as session:
        assert sweep_after(session, 0)[1] == 0  # a full re-run records nothing twice
    assert rows(db, "select category, severity from cases") == [("suicide", "imminent")]
    assert rows(db, "select count(*) from outbox") == [(1,)]
