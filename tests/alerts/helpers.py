"""Shared helpers for the delivery tests."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

from sqlalchemy import select

from bot.alerts.outbox import enqueue_case_alert
from bot.db.models import Case, Outbox
from bot.db.session import session_scope
from tests.fakes.telegram_api import Call, FakeTelegram

from . import factories as f


def seed_team_case(url: str, **case_kwargs: Any) -> int:
    """Supervisor `boss` (chat 900), worker `wang` (chat 501), a child, an alerted case."""
    with session_scope(url) as s:
        boss, social, kid = f.team(s)
        case = f.case(s, kid, **case_kwargs)
        enqueue_case_alert(s, case)
        return case.id


def outbox_rows(url: str, case_id: int | None = None) -> list[Outbox]:
    with session_scope(url) as s:
        query = select(Outbox).order_by(Outbox.id)
        if case_id is not None:
            query = query.where(Outbox.case_id == case_id)
        return list(s.execute(query).scalars())


def get_case(url: str, case_id: int) -> Case:
    with session_scope(url) as s:
        return s.get(Case, case_id)


def callback_data(call: Call) -> str | None:
    keyboard = (call.params.get("reply_markup") or {}).get("inline_keyboard") or []
    for row in keyboard:
        for button in row:
            if button.get("callback_data"):
                return button["callback_data"]
    return None


def case_of(call: Call) -> int | None:
    data = callback_data(call)
    return int(data.split(":", 1)[1]) if data and data.startswith("ack:") else None


def sent_to(fake: FakeTelegram, chat_id: int) -> list[Call]:
    return [c for c in fake.calls("sendMessage") if c.params.get("chat_id") == chat_id]


async def eventually(check: Callable[[], bool], timeout: float = 5.0, every: float = 0.05) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(every)
