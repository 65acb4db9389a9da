"""The same outbox on PostgreSQL (skipped when no server on 127.0.0.1:5432).

Each test gets its own throwaway database, so the shared `test` database is left alone.
"""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter
from collections.abc import Iterator

import pytest
import sqlalchemy as sa

from bot.alerts.outbox import enqueue_case_alert
from bot.alerts.worker import AlertWorker
from bot.db.session import session_scope
from tests.fakes.telegram_api import FakeTelegram

from . import factories as f
from .helpers import case_of, eventually, outbox_rows

SERVER = "postgresql://postgres@127.0.0.1:5432"


def _admin() -> sa.engine.Engine:
    return sa.create_engine(f"{SERVER}/test", isolation_level="AUTOCOMMIT")


@pytest.fixture
def pg_url(db_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    from bot.config import settings
    from bot.db.migrate import upgrade
    from bot.db.session import dispose_all

    name = f"peiban_alerts_{uuid.uuid4().hex[:10]}"
    try:
        with _admin().connect() as conn:
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    except sa.exc.OperationalError as exc:
        pytest.skip(f"no PostgreSQL: {exc.orig}")
    url = f"{SERVER}/{name}"
    monkeypatch.setenv("DATABASE_URL", url)
    settings.cache_clear()
    upgrade(url)
    yield url
    dispose_all()
    with _admin().connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def _seed(url: str, count: int) -> list[int]:
    with session_scope(url) as s:
        boss, social, kid = f.team(s)
        ids = []
        for _ in range(count):
            case = f.case(s, kid)
            enqueue_case_alert(s, case)
            enqueue_case_alert(s, case)  # a duplicate call: ON CONFLICT DO NOTHING
            ids.append(case.id)
        return ids


async def test_two_workers_on_postgres_send_each_alert_once(
    pg_url: str, telegram_env: FakeTelegram
) -> None:
    case_ids = _seed(pg_url, 30)
    assert len(outbox_rows(pg_url)) == 30
    stop = asyncio.Event()
    workers = [AlertWorker(pg_url) for _ in range(2)]
    tasks = [asyncio.create_task(w.run(stop)) for w in workers]
    await eventually(lambda: all(r.status == "sent" for r in outbox_rows(pg_url)), timeout=20)
    stop.set()
    await asyncio.gather(*tasks)
    counts = Counter(case_of(c) for c in telegram_env.calls("sendMessage"))
    assert set(counts) == set(case_ids) and set(counts.values()) == {1}
    assert sum(w.delivered for w in workers) == 30
