"""`python -m bot alerts status | retry | worker --once`."""

from __future__ import annotations

import pytest

from bot.alerts.cli import main
from tests.fakes.telegram_api import FakeTelegram

from .helpers import outbox_rows, seed_team_case


def test_status_lists_pending_and_failed_rows(db_url: str, capsys: pytest.CaptureFixture) -> None:
    seed_team_case(db_url)
    assert main(["status"]) == 0
    out = capsys.readouterr().out
    assert "outbox: pending=1" in out and "alert" in out and "501" in out


def test_retry_requeues_a_failed_row(db_url: str, capsys: pytest.CaptureFixture) -> None:
    from bot.db.models import Outbox
    from bot.db.session import session_scope

    seed_team_case(db_url)
    assert main(["retry", "1"]) == 1  # pending: nothing to do
    with session_scope(db_url) as s:
        s.get(Outbox, 1).status = "failed"
    assert main(["retry", "1"]) == 0
    assert outbox_rows(db_url)[0].status == "pending"


async def test_worker_once(db_url: str, telegram_env: FakeTelegram) -> None:
    import asyncio

    seed_team_case(db_url)
    # main() runs its own event loop: give it a thread so the fake keeps serving on ours.
    assert await asyncio.to_thread(main, ["worker", "--once"]) == 0
    assert outbox_rows(db_url)[0].status == "sent"
    assert len(telegram_env.calls("sendMessage")) == 1
