"""`python -m bot telegram …`: webhook registration by command, and polling that feeds the
same webhook endpoint as Telegram would."""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from pathlib import Path

import pytest

from bot.channels import telegram_cli
from bot.channels.telegram import ALLOWED_UPDATES
from tests.channels.harness import ChannelServer, StubAgent
from tests.fakes.telegram_api import FakeTelegram, callback_update, text_update

ROOT = Path(__file__).resolve().parents[2]


def _run(argv: list[str]) -> int:
    """The CLI calls asyncio.run, so run it in a thread from these async tests."""
    return telegram_cli.main(argv)


async def test_set_webhook_needs_an_explicit_secret(
    telegram_env: FakeTelegram, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    from bot.config import settings

    monkeypatch.delenv("TELEGRAM_SECRET_TOKEN")
    settings.cache_clear()
    assert await asyncio.to_thread(_run, ["set-webhook", "https://peiban.example"]) == 2
    assert "TELEGRAM_SECRET_TOKEN" in capsys.readouterr().err
    assert telegram_env.calls("setWebhook") == []


async def test_set_webhook_checks_the_secret_and_reports_api_errors(
    telegram_env: FakeTelegram, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    from bot.config import settings

    monkeypatch.setenv("TELEGRAM_SECRET_TOKEN", "has spaces!")
    settings.cache_clear()
    assert await asyncio.to_thread(_run, ["set-webhook", "https://pb.example"]) == 2
    monkeypatch.setenv("TELEGRAM_SECRET_TOKEN", "ok-secret")
    settings.cache_clear()
    telegram_env.fail_next(1, 400, description="Bad Request: bad webhook: Failed to resolve host",
                           method="setWebhook")
    assert await asyncio.to_thread(_run, ["set-webhook", "https://pb.example"]) == 1
    assert "failed to resolve host" in capsys.readouterr().err.lower()


async def test_set_info_and_delete_webhook(
    telegram_env: FakeTelegram, capsys: pytest.CaptureFixture
) -> None:
    assert await asyncio.to_thread(_run, ["set-webhook", "https://peiban.example"]) == 0
    params = telegram_env.calls("setWebhook")[0].params
    assert params["url"] == "https://peiban.example/webhooks/telegram/webhook"
    assert params["secret_token"] == "test-secret_123"
    assert params["allowed_updates"] == ALLOWED_UPDATES
    assert await asyncio.to_thread(_run, ["info"]) == 0
    out = capsys.readouterr().out
    assert "@peiban_test_bot" in out and "https://peiban.example/webhooks" in out
    assert await asyncio.to_thread(_run, ["delete-webhook"]) == 0
    assert telegram_env.webhook == {}


async def test_set_webhook_uses_the_public_url(
    telegram_env: FakeTelegram, monkeypatch: pytest.MonkeyPatch
) -> None:
    from bot.config import settings

    monkeypatch.setenv("TELEGRAM_PUBLIC_URL", "https://pb.example/custom/hook")
    settings.cache_clear()
    assert await asyncio.to_thread(_run, ["set-webhook"]) == 0
    assert telegram_env.webhook["url"] == "https://pb.example/custom/hook"


async def test_webhook_mode_end_to_end(telegram_env: FakeTelegram) -> None:
    """The fake delivers like Telegram, to the URL and with the secret set by the command."""
    async with ChannelServer() as srv:
        assert await asyncio.to_thread(_run, ["set-webhook", srv.webhook_url]) == 0
        assert await telegram_env.deliver(text_update(61, "你好")) == 200
        assert await telegram_env.deliver(text_update(61, "你好"), secret="guess") == 403
        await telegram_env.wait_for("sendMessage")
    assert telegram_env.sent_texts(61) == ["收到：你好"]


async def test_poll_feeds_the_webhook_endpoint(telegram_env: FakeTelegram) -> None:
    agent = StubAgent(delay=0.02)
    async with ChannelServer(agent=agent) as srv:
        for i in range(4):
            telegram_env.enqueue_update(text_update(62, f"第{i}条"))
        telegram_env.enqueue_update(text_update(63, "hello", language_code="en"))
        telegram_env.enqueue_update(callback_update(62, "/affirm"))
        stop = asyncio.Event()
        args = argparse.Namespace(rasa_url=srv.url, timeout=1, concurrency=4)
        poller = asyncio.ensure_future(telegram_cli.poll(args, stop))
        await telegram_env.wait_for("answerCallbackQuery", timeout=10)
        await telegram_env.wait_for("sendMessage", count=6, timeout=10)
        # the next long poll confirms what was received (recorded when its 1 s poll ends)
        confirm = await telegram_env.wait_for("getUpdates", lambda c: c.params.get("offset"))
        stop.set()
        assert await asyncio.wait_for(poller, 10) == 0
    user_62 = [m.text for m in agent.handled if m.sender_id == "telegram:62"]
    assert user_62 == ["第0条", "第1条", "第2条", "第3条", "/affirm"]
    assert telegram_env.sent_texts(63) == ["Got it: hello"]
    assert telegram_env.calls("getUpdates")[0].params.get("offset") is None
    assert confirm.params["offset"] > max(m.metadata["telegram"]["update_id"]
                                          for m in agent.handled)


async def test_poll_refuses_while_a_webhook_is_set(telegram_env: FakeTelegram) -> None:
    telegram_env.webhook = {"url": "https://prod.example/webhooks/telegram/webhook"}
    args = argparse.Namespace(rasa_url="http://127.0.0.1:9", timeout=1, concurrency=1)
    assert await telegram_cli.poll(args, asyncio.Event()) == 2
    assert telegram_env.calls("getUpdates") == []


async def test_poll_waits_for_rasa_and_survives_api_errors(telegram_env: FakeTelegram) -> None:
    """Updates that arrive before Rasa is up are delivered once it is; 500/429 from Telegram
    only delay polling."""
    agent = StubAgent()
    server = ChannelServer(agent=agent)
    telegram_env.enqueue_update(text_update(64, "早上好"))
    telegram_env.fail_next(1, 500, method="getUpdates")
    stop = asyncio.Event()
    args = argparse.Namespace(rasa_url=server.url, timeout=1, concurrency=2)
    poller = asyncio.ensure_future(telegram_cli.poll(args, stop))
    await asyncio.sleep(1.5)  # Rasa is "still loading"
    async with server:
        await telegram_env.wait_for("sendMessage", timeout=15)
        stop.set()
        assert await asyncio.wait_for(poller, 10) == 0
    assert telegram_env.sent_texts(64) == ["收到：早上好"]


async def test_the_command_line_entry_point(telegram_env: FakeTelegram) -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "telegram", "set-webhook", "https://pb.example",
        cwd=str(ROOT), env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(proc.communicate(), 60)
    assert proc.returncode == 0, err.decode()
    assert b"webhook set for @peiban_test_bot" in out
    assert telegram_env.webhook["secret_token"] == "test-secret_123"


async def test_poll_as_a_process_stops_cleanly_on_sigterm(telegram_env: FakeTelegram) -> None:
    """What `make run` starts: `python -m bot telegram poll`."""
    import signal

    async with ChannelServer() as srv:
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", "telegram", "poll", "--rasa-url", srv.url,
            "--timeout", "2", cwd=str(ROOT), env={**os.environ, "PYTHONPATH": str(ROOT)},
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
        )
        try:
            line = await asyncio.wait_for(proc.stdout.readline(), 60)
            assert b"polling Telegram as @peiban_test_bot" in line, line
            telegram_env.enqueue_update(text_update(65, "晚上好"))
            await telegram_env.wait_for("sendMessage", timeout=15)
        finally:
            proc.send_signal(signal.SIGTERM)
            code = await asyncio.wait_for(proc.wait(), 15)
    assert code == 0
    assert telegram_env.sent_texts(65) == ["收到：晚上好"]
