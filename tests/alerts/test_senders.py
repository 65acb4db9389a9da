"""Senders against loopback servers: error classification, fallbacks, timeouts."""

from __future__ import annotations

import asyncio
import datetime as dt

import pytest
from aiohttp import web

from bot.alerts.outbox import is_public_url
from bot.alerts.senders import (
    DEFAULT_TELEGRAM_BASE_URL,
    PermanentError,
    RetryableError,
    TelegramSender,
    WebhookSender,
    plain_text,
    telegram_base_url,
)
from bot.alerts.timing import backoff
from tests.fakes.telegram_api import FakeTelegram, free_port

TEXT = "<b>🚨 风险警报 / Risk alert</b> · #7\n消息 / Message: 「a &lt; b」"


def _sender(fake: FakeTelegram, token: str | None = None, timeout: float = 3) -> TelegramSender:
    return TelegramSender(token or fake.token, fake.base_url, timeout=timeout)


async def test_message_id_and_html(fake_telegram: FakeTelegram) -> None:
    sender = _sender(fake_telegram)
    message_id = await sender.send("501", TEXT, 7, "https://console.example.org/cases/7")
    call = fake_telegram.calls("sendMessage")[0]
    assert message_id == str(call.response["message_id"]) and call.params["parse_mode"] == "HTML"
    await sender.close()


@pytest.mark.parametrize(
    "status, description, expected",
    [
        (500, None, RetryableError),
        (502, None, RetryableError),
        (429, None, RetryableError),
        (400, "Bad Request: chat not found", PermanentError),
        (403, "Forbidden: bot was blocked by the user", PermanentError),
    ],
)
async def test_classification(fake_telegram: FakeTelegram, status, description, expected) -> None:
    fake_telegram.fail_next(
        1, status, description=description, retry_after=3 if status == 429 else None
    )
    sender = _sender(fake_telegram)
    with pytest.raises(expected) as info:
        await sender.send("501", TEXT, 7)
    if status == 429:
        assert info.value.retry_after == 3
    await sender.close()


async def test_revoked_token_keeps_the_alert(fake_telegram: FakeTelegram) -> None:
    sender = _sender(fake_telegram, token="42:revoked-token")
    with pytest.raises(RetryableError, match="TELEGRAM_TOKEN"):
        await sender.send("501", TEXT, 7)
    await sender.close()


async def test_refused_link_button_then_unparsable_html_still_deliver(
    fake_telegram: FakeTelegram,
) -> None:
    fake_telegram.fail_next(1, 400, description="Bad Request: BUTTON_URL_INVALID")
    fake_telegram.fail_next(1, 400, description="Bad Request: can't parse entities: oops")
    sender = _sender(fake_telegram)
    await sender.send("501", TEXT, 7, "http://intranet.example/cases/7")
    first, second, third = fake_telegram.log
    assert len(first.params["reply_markup"]["inline_keyboard"]) == 2
    assert len(second.params["reply_markup"]["inline_keyboard"]) == 1  # no link button
    assert "parse_mode" not in third.params and third.status == 200
    assert third.params["text"].startswith("🚨 风险警报") and "a < b" in third.params["text"]
    await sender.close()


async def test_telegram_timeout_is_retryable() -> None:
    async def slow(request: web.Request) -> web.Response:
        await asyncio.sleep(2)
        return web.json_response({"ok": True, "result": {}})

    app = web.Application()
    app.router.add_post("/bot{token}/{method}", slow)
    runner = web.AppRunner(app, handler_cancellation=True)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    sender = TelegramSender("1:x", f"http://127.0.0.1:{port}/bot", timeout=0.3)
    try:
        with pytest.raises(RetryableError):
            await sender.send("501", TEXT, 7)
    finally:
        await sender.close()
        await runner.cleanup()


async def test_webhook_timeout_and_refused_connection_are_retryable() -> None:
    async def slow(request: web.Request) -> web.Response:
        await asyncio.sleep(2)
        return web.Response()

    app = web.Application()
    app.router.add_post("/hook", slow)
    runner = web.AppRunner(app, handler_cancellation=True)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    sender = WebhookSender("s", timeout=0.3)
    try:
        with pytest.raises(RetryableError):
            await sender.send(f"http://127.0.0.1:{port}/hook", {"a": 1}, "k")
        with pytest.raises(RetryableError):
            await sender.send(f"http://127.0.0.1:{free_port()}/hook", {"a": 1}, "k")
    finally:
        await sender.close()
        await runner.cleanup()


def test_base_url_follows_ptb_conventions() -> None:
    assert telegram_base_url(None) == DEFAULT_TELEGRAM_BASE_URL
    assert telegram_base_url("http://127.0.0.1:8081/bot") == "http://127.0.0.1:8081/bot"
    assert telegram_base_url("http://127.0.0.1:8081") == "http://127.0.0.1:8081/bot"
    assert telegram_base_url("http://127.0.0.1:8081/") == "http://127.0.0.1:8081/bot"
    assert telegram_base_url("http://h/x/bot{token}") == "http://h/x/bot{token}"


def test_link_button_only_for_addresses_telegram_accepts() -> None:
    assert is_public_url("https://console.example.org")
    assert is_public_url("http://10.0.0.5:8080")  # tried; refused -> retried without it
    assert not is_public_url("http://127.0.0.1:8080")
    assert not is_public_url("https://localhost:8080")
    assert not is_public_url("not a url")


def test_plain_text_fallback() -> None:
    assert plain_text("<b>a</b> &lt;script&gt; 「x」") == "a <script> 「x」"


def test_backoff_grows_with_jitter_and_a_cap(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PEIBAN_RETRY_BASE_SECONDS", raising=False)
    monkeypatch.delenv("PEIBAN_RETRY_CAP_SECONDS", raising=False)
    for attempts, low, high in [(1, 0.5, 1), (2, 1, 2), (4, 4, 8), (20, 150, 300)]:
        delays = {backoff(attempts).total_seconds() for _ in range(50)}
        assert all(low <= d <= high for d in delays) and len(delays) > 1
    assert backoff(1, retry_after=30) >= dt.timedelta(seconds=30)
