"""The browser chat page: the proxy's input checks, and a real Chromium talking to a fake
Rasa REST backend through it."""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import pytest
import pytest_asyncio
from aiohttp import web

from bot.channels.chatpage import routes
from tests.fakes.telegram_api import free_port

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]
SENDER = "a1b2c3d4e5f6a7b8c9d0"


@dataclass
class FakeRasa:
    """Rasa's REST channel, as far as the page can tell."""

    requests: list[dict[str, Any]] = field(default_factory=list)
    mode: str = "ok"  # ok | slow | error | garbage

    async def handle(self, request: web.Request) -> web.StreamResponse:
        body = await request.json()
        self.requests.append(body)
        if self.mode == "slow":
            await asyncio.sleep(2)
        if self.mode == "error":
            return web.Response(status=500, text="boom")
        if self.mode == "garbage":
            return web.Response(text="<html>not json")
        return web.json_response(self.reply(body["message"]))

    @staticmethod
    def reply(message: str) -> list[dict[str, Any]]:
        if message.startswith("/greet"):
            english = '"en"' in message
            return [
                {"recipient_id": "x", "text": "Hi! I'm Peiban, a chatbot." if english
                 else "你好！我是陪伴，一个聊天机器人。"},
                {"recipient_id": "x", "text": "Are you a child or a grown-up?" if english
                 else "你是孩子还是家长？",
                 "buttons": [{"title": "我是孩子", "payload": '/choose_role{"role":"child"}'},
                             {"title": "我是家长", "payload": '/choose_role{"role":"guardian"}'}]},
            ]
        if message.startswith("/choose_role"):
            return [{"recipient_id": "x", "text": "好的！你几岁了？"}]
        return [{"recipient_id": "x", "text": f"收到：{message}", "image": "http://x/y.png"}]


@dataclass
class Site:
    url: str
    rasa: FakeRasa


async def _serve(app: web.Application) -> tuple[web.AppRunner, int]:
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    return runner, port


@pytest_asyncio.fixture
async def site() -> AsyncIterator[Site]:
    rasa = FakeRasa()
    rasa_app = web.Application()
    rasa_app.router.add_post("/webhooks/rest/webhook", rasa.handle)
    rasa_runner, rasa_port = await _serve(rasa_app)
    app = web.Application()  # stands in for the console's app on :8080
    routes.add_routes(app, f"http://127.0.0.1:{rasa_port}")
    runner, port = await _serve(app)
    yield Site(f"http://127.0.0.1:{port}", rasa)
    await runner.cleanup()
    await rasa_runner.cleanup()


async def _post(site: Site, body: Any, raw: bytes | None = None) -> tuple[int, dict]:
    data = raw if raw is not None else json.dumps(body).encode()
    async with aiohttp.ClientSession() as http:
        async with http.post(site.url + "/chat/api/message", data=data,
                             headers={"Content-Type": "application/json"}) as resp:
            return resp.status, await resp.json(content_type=None)


# --------------------------------------------------------------------------- the proxy
async def test_proxy_forwards_text_and_buttons(site: Site) -> None:
    status, body = await _post(site, {"sender": SENDER, "message": "我今天很开心",
                                      "language": "zh"})
    assert status == 200
    assert body == {"messages": [{"text": "收到：我今天很开心"}]}  # only what the page renders
    sent = site.rasa.requests[0]
    assert sent["sender"] == "web:" + SENDER
    assert sent["metadata"] == {"channel": "chatpage", "ui_language": "zh"}
    status, body = await _post(site, {"sender": SENDER, "payload": "/greet"})
    assert body["messages"][1]["buttons"][0]["title"] == "我是孩子"


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"message": "你好"}, 400, "invalid_sender"),
        ({"sender": "short", "message": "你好"}, 400, "invalid_sender"),
        ({"sender": "../../etc/passwd-xxxxxxxx", "message": "你好"}, 400, "invalid_sender"),
        ({"sender": SENDER}, 400, "missing_message"),
        ({"sender": SENDER, "message": 5}, 400, "missing_message"),
        ({"sender": SENDER, "message": "   \u0000\u0007 "}, 400, "empty_message"),
        ({"sender": SENDER, "message": "字" * 2001}, 400, "message_too_long"),
        ({"sender": SENDER, "payload": "/greet{not json"}, 400, "invalid_payload"),
        ([1, 2], 400, "invalid_json"),
    ],
)
async def test_proxy_rejects_bad_input(site: Site, body: Any, status: int, code: str) -> None:
    assert await _post(site, body) == (status, {"error": code})
    assert site.rasa.requests == []


async def test_proxy_rejects_broken_and_huge_bodies(site: Site) -> None:
    assert await _post(site, None, raw=b"{oops") == (400, {"error": "invalid_json"})
    assert await _post(site, None, raw=b"\xff\xfe") == (400, {"error": "invalid_json"})
    huge = json.dumps({"sender": SENDER, "message": "x" * 40_000}).encode()
    assert await _post(site, None, raw=huge) == (413, {"error": "too_large"})


async def test_typed_text_is_never_intent_syntax(site: Site) -> None:
    await _post(site, {"sender": SENDER, "message": "/risk_disclosure 我很好"})
    await _post(site, {"sender": SENDER, "message": "2000字以内\u0007的话"})
    assert [r["message"] for r in site.rasa.requests] == ["risk_disclosure 我很好",
                                                          "2000字以内的话"]


async def test_proxy_never_answers_500(site: Site, monkeypatch: pytest.MonkeyPatch) -> None:
    site.rasa.mode = "error"
    assert await _post(site, {"sender": SENDER, "message": "a"}) == (502, {"error": "unavailable"})
    site.rasa.mode = "garbage"
    assert await _post(site, {"sender": SENDER, "message": "b"}) == (502, {"error": "unavailable"})
    site.rasa.mode = "slow"
    monkeypatch.setattr(routes, "RASA_TIMEOUT", 0.3)
    assert await _post(site, {"sender": SENDER, "message": "c"}) == (504, {"error": "timeout"})


async def test_proxy_when_rasa_is_down() -> None:
    app = web.Application()
    routes.add_routes(app, f"http://127.0.0.1:{free_port()}")
    runner, port = await _serve(app)
    try:
        site = Site(f"http://127.0.0.1:{port}", FakeRasa())
        assert await _post(site, {"sender": SENDER, "message": "在吗"}) == (
            503, {"error": "unavailable"})
    finally:
        await runner.cleanup()


async def test_proxy_flood_gets_429_others_unaffected(site: Site, cheap_safety: None) -> None:
    results = [await _post(site, {"sender": SENDER, "message": f"{i}"}) for i in range(10)]
    assert [s for s, _ in results].count(429) == 2
    assert (await _post(site, {"sender": "another-sender-0001", "message": "hi"}))[0] == 200
    # over the limit, but a disclosure always goes through
    assert (await _post(site, {"sender": SENDER, "message": "我不想活了"}))[0] == 200
    assert site.rasa.requests[-1]["message"] == "我不想活了"


async def test_page_and_static_files_with_strict_csp(site: Site) -> None:
    async with aiohttp.ClientSession() as http:
        for path in ("/chat", "/chat/", "/chat/static/chat.js", "/chat/static/chat.css",
                     "/chat/static/texts.json"):
            async with http.get(site.url + path) as resp:
                assert resp.status == 200, path
                assert "script-src 'self'" in resp.headers["Content-Security-Policy"]
                assert resp.headers["X-Content-Type-Options"] == "nosniff"
        async with http.get(site.url + "/chat") as resp:
            html = await resp.text()
        for path in ("/chat/static/..%2Froutes.py", "/chat/static/routes.py",
                     "/chat/static/nothing.js"):
            async with http.get(site.url + path) as resp:
                assert resp.status == 404, path
    assert "<script>" not in html and "style=" not in html and " on" not in html.lower()
    assert "聊天机器人" in html  # "this is a bot", before any script runs


# --------------------------------------------------------------------------- the browser
@pytest.mark.browser
async def test_a_child_chats_in_the_browser(site: Site) -> None:
    if not os.path.exists(CHROMIUM):
        pytest.skip(f"{CHROMIUM} not found: apt-get install -y chromium")
    from playwright.async_api import async_playwright

    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=CHROMIUM, headless=True,
                                           args=CHROMIUM_ARGS)
        try:
            await _chat_session(browser, site)
        finally:
            await browser.close()


async def _chat_session(browser: Any, site: Site) -> None:
    from playwright.async_api import expect

    context = await browser.new_context(viewport={"width": 360, "height": 640})  # a phone
    page = await context.new_page()
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    await page.goto(site.url + "/chat")

    log = page.locator("#log")
    await expect(log).to_contain_text("你好！我是陪伴")  # the page greets on load
    await expect(page.locator("html")).to_have_attribute("lang", "zh-CN")
    await expect(page.locator("#bot-note")).to_contain_text("不是真人")
    assert site.rasa.requests[0]["message"] == '/greet{"language":"zh"}'
    sender = site.rasa.requests[0]["sender"]
    assert sender.startswith("web:") and len(sender) == 4 + 32

    await page.locator("#input").fill("我今天考试考得很好")
    await page.keyboard.press("Enter")
    await expect(log).to_contain_text("收到：我今天考试考得很好")
    await expect(page.locator("#input")).to_have_value("")

    choice = page.get_by_role("button", name="我是孩子")
    await choice.focus()
    await page.keyboard.press("Enter")  # keyboard only
    await expect(log).to_contain_text("好的！你几岁了？")
    await expect(choice).to_be_disabled()
    assert site.rasa.requests[-1]["message"] == '/choose_role{"role":"child"}'
    assert site.rasa.requests[-1]["sender"] == sender

    await page.get_by_role("button", name="English").click()
    await expect(page.locator("html")).to_have_attribute("lang", "en")
    await expect(page.locator("#send")).to_have_text("Send")
    await expect(page.locator("#bot-note")).to_contain_text("not a person")

    site.rasa.mode = "error"
    await page.locator("#input").fill("are you there?")
    await page.locator("#send").click()
    await expect(page.locator("#status")).to_contain_text("110")
    await expect(page.locator("#input")).to_have_value("are you there?")  # words kept

    site.rasa.mode = "ok"
    page.on("dialog", lambda d: asyncio.ensure_future(d.accept()))
    await page.locator("#reset").click()
    await expect(log).not_to_contain_text("考试")
    await expect(log).to_contain_text("Hi! I'm Peiban")
    assert site.rasa.requests[-1]["sender"] != sender  # the next child: a new conversation

    await page.reload()
    await expect(page.locator("#send")).to_have_text("Send")  # language remembered
    problems = [p for p in problems if "502" not in p]  # the one we caused on purpose
    assert not problems, problems  # no CSP violations, no script errors, no 404s
    await context.close()
