"""Login, throttling and lockout, sessions, and the gate in front of every page and API."""

from __future__ import annotations

import datetime as dt
import time

import pytest
from aiohttp.test_utils import TestClient
from sqlalchemy import select

from bot.console import auth
from bot.db.models import Worker
from bot.db.session import session_scope
from bot.staff import accounts, passwords
from tests.console.conftest import PASSWORD, World, audit_rows, csrf_of, login

PAGES = ["/", "/cases", "/concerns", "/watch", "/cases/1", "/children", "/children/1",
         "/link-telegram", "/admin/workers", "/cases/abc", "/nope"]


@pytest.mark.parametrize("path", PAGES)
async def test_pages_redirect_to_login(client: TestClient, world: World, path: str) -> None:
    response = await client.get(path, allow_redirects=False)
    assert response.status == 302
    assert response.headers["Location"].startswith("/login?next=")


async def test_api_refuses_with_401(client: TestClient, world: World) -> None:
    response = await client.get("/events?kind=risk&since=0")
    assert response.status == 401
    assert (await response.json())["error"] == "login required"


@pytest.mark.parametrize("path", ["/cases/1/acknowledge", "/cases/1/resolve", "/logout",
                                  "/link-telegram", "/admin/workers"])
async def test_posts_without_login_change_nothing(client: TestClient, world: World,
                                                  path: str) -> None:
    token = await csrf_of(client)
    response = await client.post(path, data={"_csrf": token, "outcome": "false_alarm",
                                             "text": "x"}, allow_redirects=False)
    assert response.status == 302 and response.headers["Location"].startswith("/login")
    assert not audit_rows(world.url, "resolve_case") and not audit_rows(world.url, "ack_case")


async def test_health_is_public(client: TestClient, world: World) -> None:
    response = await client.get("/health")
    body = await response.json()
    assert response.status == 200 and body["ok"] is True and body["db"] is True
    assert body["version"]


async def test_login_and_logout(client: TestClient, world: World) -> None:
    token = await login(client, "alice")
    assert (await client.get("/cases")).status == 200
    assert audit_rows(world.url, "login")[-1].actor == f"worker:{world.alice}"
    response = await client.post("/logout", data={"_csrf": token}, allow_redirects=False)
    assert response.status == 303
    assert (await client.get("/cases", allow_redirects=False)).status == 302


async def test_login_is_case_insensitive_and_redirects_to_next(client: TestClient,
                                                               world: World) -> None:
    token = await csrf_of(client, "/login?next=/cases/1")
    response = await client.post("/login?next=/cases/1", data={
        "username": "Alice", "password": PASSWORD, "_csrf": token, "next": "/cases/1",
    }, allow_redirects=False)
    assert response.status == 303 and response.headers["Location"] == "/cases/1"


@pytest.mark.parametrize("target", ["//evil.example/x", "https://evil.example", "/\\evil",
                                    "javascript:alert(1)"])
async def test_no_open_redirect(client: TestClient, world: World, target: str) -> None:
    token = await csrf_of(client)
    response = await client.post("/login", data={
        "username": "alice", "password": PASSWORD, "_csrf": token, "next": target,
    }, allow_redirects=False)
    assert response.headers["Location"] == "/cases"


async def test_wrong_password_and_unknown_user_look_the_same(client: TestClient,
                                                             world: World) -> None:
    await login(client, "alice", "wrong-password-xx", expect=401)
    token = await csrf_of(client)
    wrong = await client.post("/login", data={"username": "alice", "password": "nope-nope-nope",
                                              "_csrf": token})
    ghost = await client.post("/login", data={"username": "nobody", "password": "nope-nope-nope",
                                              "_csrf": token})
    assert wrong.status == ghost.status == 401
    assert "用户名或密码错误" in await wrong.text() and "用户名或密码错误" in await ghost.text()
    assert audit_rows(world.url, "login_failed")


async def test_lockout_after_five_failures(client: TestClient, world: World) -> None:
    for _ in range(4):
        await login(client, "alice", "wrong-password-xx", expect=401)
    token = await csrf_of(client)
    fifth = await client.post("/login", data={"username": "alice", "password": "bad-bad-bad1",
                                              "_csrf": token})
    assert "锁定" in await fifth.text()
    # Even the right password is refused while locked.
    await login(client, "alice", expect=401)
    with session_scope(world.url) as db:
        alice = db.get(Worker, world.alice)
        assert alice.failed_logins == 5 and alice.locked_until > dt.datetime.utcnow()
    assert audit_rows(world.url, "login_locked")
    # An admin unlock lets alice in again.
    with session_scope(world.url) as db:
        accounts.unlock(db, "alice")
    await login(client, "alice")


async def test_unknown_usernames_lock_too(client: TestClient, world: World) -> None:
    token = await csrf_of(client)
    texts = []
    for _ in range(5):
        response = await client.post("/login", data={"username": "ghost", "password": "x" * 12,
                                                     "_csrf": token})
        texts.append(await response.text())
    assert "锁定" in texts[-1]


def test_lock_duration_grows_and_is_capped() -> None:
    assert auth.lock_duration(5) == dt.timedelta(minutes=15)
    assert auth.lock_duration(10) == dt.timedelta(minutes=30)
    assert auth.lock_duration(500) == dt.timedelta(hours=24)


async def test_ip_throttle_returns_429(client: TestClient, world: World,
                                       monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(auth, "IP_LIMIT", 3)
    for name in ("a1", "a2", "a3"):
        token = await csrf_of(client)
        await client.post("/login", data={"username": name, "password": "x" * 12, "_csrf": token})
    token = await csrf_of(client)
    response = await client.post("/login", data={"username": "alice", "password": PASSWORD,
                                                 "_csrf": token})
    assert response.status == 429
    assert int(response.headers["Retry-After"]) > 0


async def test_session_rotates_on_login(client: TestClient, world: World) -> None:
    await client.get("/login")
    before = client.session.cookie_jar.filter_cookies(client.make_url("/"))["peiban_console"].value
    await login(client, "alice")
    after = client.session.cookie_jar.filter_cookies(client.make_url("/"))["peiban_console"].value
    assert before != after


async def test_disabled_worker_is_logged_out(client: TestClient, world: World) -> None:
    await login(client, "alice")
    with session_scope(world.url) as db:
        accounts.set_active(db, "alice", False)
    assert (await client.get("/cases", allow_redirects=False)).status == 302
    await login(client, "alice", expect=401)


async def test_password_reset_ends_sessions(client: TestClient, world: World) -> None:
    await login(client, "alice")
    with session_scope(world.url) as db:
        accounts.reset_password(db, "alice", "brand-new-phrase-31")
    assert (await client.get("/cases", allow_redirects=False)).status == 302


async def test_idle_session_expires(client: TestClient, world: World,
                                    monkeypatch: pytest.MonkeyPatch) -> None:
    await login(client, "alice")
    assert (await client.get("/cases", allow_redirects=False)).status == 200
    real = time.time
    monkeypatch.setattr(auth.time, "time", lambda: real() + auth.IDLE_TIMEOUT + 5)
    assert (await client.get("/cases", allow_redirects=False)).status == 302


async def test_polling_does_not_keep_session_alive(client: TestClient, world: World,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    await login(client, "alice")
    real = time.time
    monkeypatch.setattr(auth.time, "time", lambda: real() + auth.IDLE_TIMEOUT - 60)
    assert (await client.get("/events?kind=risk&since=0")).status == 200
    monkeypatch.setattr(auth.time, "time", lambda: real() + auth.IDLE_TIMEOUT + 5)
    assert (await client.get("/events?kind=risk&since=0")).status == 401


async def test_login_rehashes_old_parameters(client: TestClient, world: World,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PEIBAN_ARGON2_TIME_COST", "2")
    passwords.reset_hasher()
    await login(client, "alice")
    with session_scope(world.url) as db:
        stored = db.execute(select(Worker.password_hash).where(Worker.id == world.alice)).scalar()
    assert "t=2" in stored
