"""Fixtures for the console tests: a migrated SQLite database under tmp_path, the app, logins."""

from __future__ import annotations

import datetime as dt
import re
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import pytest_asyncio
from aiohttp.test_utils import TestClient, TestServer
from cryptography.fernet import Fernet

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

PASSWORD = "kite-river-lamp-42"
CSRF_RE = re.compile(r'name="_csrf" value="([^"]+)"')
FAST_ARGON2 = {
    "PEIBAN_ARGON2_TIME_COST": "1", "PEIBAN_ARGON2_MEMORY_KIB": "8192",
    "PEIBAN_ARGON2_PARALLELISM": "1",
}


@pytest.fixture(scope="session")
def data_key() -> str:
    return Fernet.generate_key().decode()


@pytest.fixture
def db_env(tmp_path: Path, data_key: str) -> dict[str, str]:
    """The shared `db_url` with the console's settings: a known data key for subprocesses."""
    return {
        "PEIBAN_DATA_KEY": data_key,
        "PEIBAN_SESSION_KEY_FILE": str(tmp_path / "session.key"),
        "PEIBAN_CONSOLE_URL": "http://127.0.0.1:8080",
        **FAST_ARGON2,
    }


@pytest.fixture
def env(db_url: str) -> str:
    """Settings pointed at a fresh migrated database; returns its URL."""
    return db_url


@dataclass
class World:
    """Two teams: supervisor boss → alice; bob on his own; admin root."""

    url: str
    alice: int
    bob: int
    boss: int
    root: int
    child_a: int  # assigned to alice
    child_b: int  # assigned to bob
    case_a: int
    case_b: int


def make_worker(url: str, username: str, role: str = "social_worker",
                supervisor: str | None = None, on_call: bool = False) -> int:
    from bot.db.session import session_scope
    from bot.staff import accounts

    with session_scope(url) as db:
        return accounts.create_worker(db, username, PASSWORD, role=role, supervisor=supervisor,
                                      on_call=on_call).id


def make_child(url: str, sender: str, worker: str, pseudonym: str, village: str = "李庄") -> int:
    from bot.db.models import Person
    from bot.db.session import session_scope
    from bot.staff import accounts

    with session_scope(url) as db:
        assignment = accounts.assign(db, sender, worker)
        person = db.get(Person, assignment.child_id)
        person.role, person.pseudonym, person.village, person.age_band = (
            "child", pseudonym, village, "11-12")
        return person.id


def make_case(url: str, child_id: int, *, message: str = "我不想活了", severity: str = "high",
              category: str = "suicide", kind: str = "risk", worker_id: int | None = None,
              context: list | None = None, mandatory: bool = True,
              created_ago: dt.timedelta = dt.timedelta(minutes=3)) -> int:
    from bot.db.models import Case, Person, utcnow
    from bot.db.session import session_scope

    with session_scope(url) as db:
        person = db.get(Person, child_id)
        now = utcnow()
        case = Case(
            kind=kind, sender_id=person.sender_id, person_id=person.id, child_id=person.id,
            category=category, severity=severity, status="open", mandatory_report=mandatory,
            worker_id=worker_id, summary=message,
            context=context if context is not None else [
                {"role": "user", "text": "今天好累"}, {"role": "bot", "text": "听起来很辛苦"},
                {"role": "user", "text": message},
            ],
            evidence={"escalate": True, "category": category, "severity": severity,
                      "evidence": ["不想活"]},
            created_at=now - created_ago, notify_due_at=now + dt.timedelta(minutes=27),
        )
        db.add(case)
        db.flush()
        return case.id


@pytest.fixture
def world(env: str) -> World:
    boss = make_worker(env, "boss", "supervisor")
    alice = make_worker(env, "alice", supervisor="boss")
    bob = make_worker(env, "bob")
    root = make_worker(env, "root", "admin")
    child_a = make_child(env, "tg-1001", "alice", "小花")
    child_b = make_child(env, "tg-2002", "bob", "小明", village="王村")
    case_a = make_case(env, child_a, worker_id=alice)
    case_b = make_case(env, child_b, worker_id=bob, severity="imminent", category="abuse")
    return World(env, alice, bob, boss, root, child_a, child_b, case_a, case_b)


@pytest_asyncio.fixture
async def client(env: str) -> AsyncIterator[TestClient]:
    from bot.console.app import create_app

    async with TestClient(TestServer(create_app(env))) as test_client:
        yield test_client


@pytest_asyncio.fixture
async def other_client(env: str) -> AsyncIterator[TestClient]:
    """A second browser (separate cookie jar) against its own server on the same database."""
    from bot.console.app import create_app

    async with TestClient(TestServer(create_app(env))) as test_client:
        yield test_client


async def csrf_of(client: TestClient, path: str = "/login") -> str:
    response = await client.get(path)
    match = CSRF_RE.search(await response.text())
    assert match, f"no CSRF token on {path}"
    return match.group(1)


async def login(client: TestClient, username: str, password: str = PASSWORD,
                expect: int = 303) -> str:
    """Log in; returns the CSRF token of the new session."""
    token = await csrf_of(client)
    response = await client.post(
        "/login", data={"username": username, "password": password, "_csrf": token},
        allow_redirects=False,
    )
    assert response.status == expect, await response.text()
    if expect != 303:
        return ""
    return await csrf_of(client, "/link-telegram")


def audit_rows(url: str, action: str | None = None) -> list:
    from sqlalchemy import select

    from bot.db.models import AuditLog
    from bot.db.session import session_scope

    with session_scope(url) as db:
        query = select(AuditLog).order_by(AuditLog.id)
        if action:
            query = query.where(AuditLog.action == action)
        return list(db.execute(query).scalars())
