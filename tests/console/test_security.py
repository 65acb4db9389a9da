"""Headers, CSRF, cookies, escaping, and bad input that must get a clear 4xx (never a 500)."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient
from sqlalchemy import select

from bot.console.security import CSP, load_session_key, safe_next
from bot.db.models import Case, CaseEvent
from bot.db.session import session_scope
from tests.console.conftest import World, audit_rows, login, make_case

XSS = '<script>alert("x")</script><img src=x onerror=alert(1)>'


@pytest.mark.parametrize("path", ["/login", "/health", "/cases", "/cases/1", "/static/console.css",
                                  "/nope"])
async def test_security_headers(client: TestClient, world: World, path: str) -> None:
    if path != "/login":
        await login(client, "alice")
    response = await client.get(path)
    headers = response.headers
    assert headers["Content-Security-Policy"] == CSP
    assert "default-src 'self'; script-src 'self'; object-src 'none'; frame-ancestors 'none'; " \
           "base-uri 'none'" in CSP
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "no-referrer"
    assert headers["X-Frame-Options"] == "DENY"
    if not path.startswith("/static/"):
        assert headers["Cache-Control"] == "no-store"


async def test_pages_have_no_inline_script_or_style(client: TestClient, world: World) -> None:
    await login(client, "alice")
    for path in ("/cases", f"/cases/{world.case_a}", f"/children/{world.child_a}", "/login"):
        html = await (await client.get(path)).text()
        assert "<script>" not in html and "<script src=\"/static/console.js\" defer>" in html
        assert " style=" not in html and "<style" not in html
        assert " onclick=" not in html and " onload=" not in html


async def test_session_cookie_flags(client: TestClient, world: World) -> None:
    response = await client.get("/login")
    cookie = response.headers["Set-Cookie"]
    assert "peiban_console=" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert "Max-Age=" in cookie


async def test_secure_cookie_when_https(env: str, monkeypatch: pytest.MonkeyPatch) -> None:
    from aiohttp.test_utils import TestServer

    from bot.config import settings
    from bot.console.app import create_app

    monkeypatch.setenv("PEIBAN_CONSOLE_URL", "https://console.example")
    settings.cache_clear()
    async with TestClient(TestServer(create_app(env))) as https_client:
        response = await https_client.get("/login")
        assert "Secure" in response.headers["Set-Cookie"]


def test_session_key_file_created_0600(tmp_path: Path) -> None:
    path = tmp_path / "sub" / "session.key"
    key = load_session_key(path)
    assert len(key) == 32 and stat.S_IMODE(path.stat().st_mode) == 0o600
    assert load_session_key(path) == key


@pytest.mark.parametrize("target, expected", [
    ("/cases/1", "/cases/1"), ("//evil", "/cases"), ("http://x", "/cases"), (None, "/cases"),
    ("/\\x", "/cases"), ("/a\r\nSet-Cookie: x", "/cases"),
])
def test_safe_next(target: str | None, expected: str) -> None:
    assert safe_next(target) == expected


async def test_post_without_csrf_is_refused(client: TestClient, world: World) -> None:
    await login(client, "alice")
    for data in ({}, {"_csrf": "wrong"}, {"_csrf": ""}):
        response = await client.post(f"/cases/{world.case_a}/acknowledge", data=data)
        assert response.status == 403
    response = await client.post(f"/cases/{world.case_a}/resolve",
                                 data={"outcome": "false_alarm", "text": "x"})
    assert response.status == 403
    with session_scope(world.url) as db:
        assert db.get(Case, world.case_a).status == "open"
    assert not audit_rows(world.url, "ack_case")


async def test_csrf_header_works_and_wrong_header_refused(client: TestClient, world: World) -> None:
    token = await login(client, "alice")
    wrong = token[:-1] + ("B" if token.endswith("A") else "A")  # one character off
    bad = await client.post(f"/cases/{world.case_a}/note", data={"text": "hi"},
                            headers={"X-CSRF-Token": wrong})
    assert bad.status == 403
    good = await client.post(f"/cases/{world.case_a}/note", data={"text": "hi"},
                             headers={"X-CSRF-Token": token}, allow_redirects=False)
    assert good.status == 303


async def test_login_needs_csrf(client: TestClient, world: World) -> None:
    response = await client.post("/login", data={"username": "alice", "password": "x"})
    assert response.status == 403


async def test_logout_needs_csrf(client: TestClient, world: World) -> None:
    await login(client, "alice")
    assert (await client.post("/logout")).status == 403
    assert (await client.get("/cases", allow_redirects=False)).status == 200


async def test_child_text_is_escaped(client: TestClient, world: World) -> None:
    case_id = make_case(world.url, world.child_a, worker_id=world.alice, message=XSS,
                        context=[{"role": "user", "text": XSS}, {"role": "bot", "text": "<b>hi"}])
    with session_scope(world.url) as db:
        db.add(CaseEvent(case_id=case_id, kind="message", text=XSS + " again"))
    token = await login(client, "alice")
    await client.post(f"/cases/{case_id}/note", data={"_csrf": token, "text": XSS})
    html = await (await client.get(f"/cases/{case_id}")).text()
    assert "<script>alert" not in html and "<img src=x" not in html
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in html
    assert "&lt;b&gt;hi" in html


@pytest.mark.parametrize("path", [
    "/cases/abc", "/cases/-1", "/cases/0", "/cases/1.5", "/cases/99999999999999999999999",
    "/cases/9223372036854775808", "/cases/9223372036854775807", "/cases/%F0%9F%98%80",
    "/cases/１２", "/children/xyz", "/children/99999999999999999999", "/cases/12345",
])
async def test_malformed_and_guessed_ids_are_404(client: TestClient, world: World,
                                                 path: str) -> None:
    await login(client, "alice")
    response = await client.get(path)
    assert response.status == 404
    assert "找不到" in await response.text()


async def test_malformed_forms_are_400(client: TestClient, world: World) -> None:
    token = await login(client, "alice")
    base = f"/cases/{world.case_a}"
    cases = [
        ("note", {"text": ""}), ("note", {"text": "x" * 5000}),
        ("contact", {"with": "martians", "how": "phone"}), ("contact", {"with": "child"}),
        ("visit", {"date": "yesterday", "text": "ok"}),
        ("visit", {"date": "2999-01-01", "text": "x"}),
        ("severity", {"severity": "apocalyptic", "reason": "x"}),
        ("severity", {"severity": "imminent", "reason": ""}),
        ("reassign", {"worker_id": "abc"}), ("reassign", {"worker_id": str(world.bob)}),
        ("resolve", {"outcome": "vanished", "text": "x"}), ("resolve", {"outcome": "other"}),
    ]
    for action, data in cases:
        response = await client.post(f"{base}/{action}", data={"_csrf": token, **data})
        assert response.status == 400, (action, data, response.status)
    with session_scope(world.url) as db:
        assert db.execute(select(CaseEvent)).first() is None


async def test_unknown_action_404_and_get_on_action_405(client: TestClient, world: World) -> None:
    token = await login(client, "alice")
    response = await client.post(f"/cases/{world.case_a}/explode", data={"_csrf": token})
    assert response.status == 404
    assert (await client.get(f"/cases/{world.case_a}/acknowledge")).status == 405


async def test_bad_query_params_are_400(client: TestClient, world: World) -> None:
    await login(client, "alice")
    for path in ("/cases?page=abc", "/cases?status=weird", "/events?kind=zzz",
                 "/events?since=-4", "/children?page=-1"):
        assert (await client.get(path)).status == 400, path


async def test_oversized_body_is_413(client: TestClient, world: World) -> None:
    token = await login(client, "alice")
    response = await client.post(f"/cases/{world.case_a}/note",
                                 data={"_csrf": token, "text": "x" * 400_000})
    assert response.status == 413


async def test_static_files_safe(client: TestClient, world: World) -> None:
    assert (await client.get("/static/console.js")).status == 200
    for path in ("/static/../app.py", "/static/%2e%2e%2fapp.py", "/static/app.py",
                 "/static/nope.css"):
        response = await client.get(path, allow_redirects=False)
        assert response.status in (302, 404), path  # "/static/../x" is "/x": login first
        assert "create_app" not in await response.text()


async def test_chat_page_is_public_and_keeps_its_own_csp(client: TestClient, world: World) -> None:
    pytest.importorskip("bot.channels.chatpage.routes")
    response = await client.get("/chat", allow_redirects=False)
    assert response.status == 200
    assert "connect-src 'self'" in response.headers["Content-Security-Policy"]
    # Its API has its own validation; the console's login and CSRF gates do not apply.
    api = await client.post("/chat/api/message", data=b"not json",
                            headers={"Content-Type": "application/json"})
    assert api.status not in (302, 401, 403)
