"""The fake Bot API behaves like Telegram as far as python-telegram-bot can tell."""

from __future__ import annotations

import asyncio
import sys

import aiohttp
import pytest
import telegram
from telegram import InlineKeyboardButton, InlineKeyboardMarkup
from telegram.error import BadRequest, Conflict, Forbidden, NetworkError, RetryAfter

from tests.fakes.telegram_api import FakeTelegram, free_port, text_update

pytestmark = pytest.mark.asyncio


def _bot(fake: FakeTelegram) -> telegram.Bot:
    return telegram.Bot(fake.token, base_url=fake.base_url)


async def test_get_me_and_send_message_ids_increase(fake_telegram: FakeTelegram) -> None:
    async with _bot(fake_telegram) as bot:
        assert bot.username == fake_telegram.bot_username
        first = await bot.send_message(42, "你好")
        second = await bot.send_message(42, "再见")
    assert second.message_id == first.message_id + 1
    assert first.text == "你好" and first.chat.id == 42 and first.chat.type == "private"
    call = await fake_telegram.wait_for("sendMessage", lambda c: c.params["text"] == "再见")
    assert call.params["chat_id"] == 42
    assert fake_telegram.sent_texts(42) == ["你好", "再见"]


async def test_markup_is_decoded_and_edits_work(fake_telegram: FakeTelegram) -> None:
    markup = InlineKeyboardMarkup([[InlineKeyboardButton("好", callback_data="/affirm")]])
    async with _bot(fake_telegram) as bot:
        sent = await bot.send_message(7, "要继续吗？", reply_markup=markup)
        await bot.edit_message_reply_markup(7, sent.message_id, reply_markup=None)
        await bot.edit_message_text("已确认", 7, sent.message_id)
        await bot.answer_callback_query("cb1", text="收到")
        await bot.send_chat_action(7, "typing")
        with pytest.raises(BadRequest):
            await bot.edit_message_text("x", 7, 9999)
    params = fake_telegram.calls("sendMessage")[0].params
    assert params["reply_markup"]["inline_keyboard"][0][0]["callback_data"] == "/affirm"
    assert fake_telegram.calls("answerCallbackQuery")[0].params["text"] == "收到"
    assert fake_telegram.messages[(7, sent.message_id)]["text"] == "已确认"


async def test_real_telegram_limits(fake_telegram: FakeTelegram) -> None:
    async with _bot(fake_telegram) as bot:
        with pytest.raises(BadRequest, match="too long"):
            await bot.send_message(1, "字" * 4097)
        await bot.send_message(1, "字" * 4096)
        with pytest.raises(BadRequest, match="(?i)button_data_invalid"):
            await bot.send_message(1, "x", reply_markup=InlineKeyboardMarkup(
                [[InlineKeyboardButton("b", callback_data="x" * 65)]]))


async def test_failures_on_demand(fake_telegram: FakeTelegram) -> None:
    async with _bot(fake_telegram) as bot:
        fake_telegram.fail_next(1, 429, retry_after=3, method="sendMessage")
        with pytest.raises(RetryAfter) as info:
            await bot.send_message(1, "a")
        assert "3" in str(info.value)
        fake_telegram.fail_next(2, 500)
        for _ in range(2):
            with pytest.raises(NetworkError):
                await bot.send_message(1, "b")
        fake_telegram.block(5)
        with pytest.raises(Forbidden):
            await bot.send_message(5, "c")
        await bot.send_message(1, "d")
    assert fake_telegram.sent_texts() == ["d"]
    assert [c.status for c in fake_telegram.log if c.method == "sendMessage"] == [
        429, 500, 500, 403, 200]


async def test_get_updates_long_poll_and_offset(fake_telegram: FakeTelegram) -> None:
    async with _bot(fake_telegram) as bot:
        assert await bot.get_updates(timeout=0) == ()

        async def push_later() -> None:
            await asyncio.sleep(0.2)
            fake_telegram.enqueue_update(text_update(9, "在吗"))

        asyncio.get_running_loop().create_task(push_later())
        loop = asyncio.get_running_loop()
        start = loop.time()
        updates = await bot.get_updates(timeout=5)
        assert 0.1 < loop.time() - start < 3
        assert updates[0].message.text == "在吗"
        again = await bot.get_updates(timeout=0)
        assert [u.update_id for u in again] == [updates[0].update_id]
        confirmed = await bot.get_updates(offset=updates[0].update_id + 1, timeout=0)
        assert confirmed == ()


async def test_webhook_registration_and_conflict(fake_telegram: FakeTelegram) -> None:
    async with _bot(fake_telegram) as bot:
        assert await bot.set_webhook("https://example.org/hook", secret_token="s3cr3t",
                                     allowed_updates=["message", "callback_query"])
        info = await bot.get_webhook_info()
        assert info.url == "https://example.org/hook"
        assert list(info.allowed_updates) == ["message", "callback_query"]
        with pytest.raises(Conflict):
            await bot.get_updates(timeout=0)
        with pytest.raises(BadRequest):
            await bot.set_webhook("https://example.org/hook", secret_token="bad secret!")
        assert await bot.delete_webhook()
        assert (await bot.get_webhook_info()).url == ""


async def test_deliver_posts_to_webhook_with_secret(fake_telegram: FakeTelegram) -> None:
    from aiohttp import web

    seen: list[tuple[str | None, dict]] = []

    async def hook(request: web.Request) -> web.Response:
        seen.append((request.headers.get("X-Telegram-Bot-Api-Secret-Token"),
                     await request.json()))
        return web.Response(text="ok")

    app = web.Application()
    app.router.add_post("/hook", hook)
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    try:
        async with _bot(fake_telegram) as bot:
            await bot.set_webhook(f"http://127.0.0.1:{port}/hook", secret_token="abc")
        assert await fake_telegram.deliver(text_update(3, "hi")) == 200
    finally:
        await runner.cleanup()
    assert seen[0][0] == "abc" and seen[0][1]["message"]["text"] == "hi"


async def test_json_and_multipart_bodies(fake_telegram: FakeTelegram) -> None:
    url = f"{fake_telegram.base_url}{fake_telegram.token}/sendMessage"
    async with aiohttp.ClientSession() as http:
        async with http.post(url, json={"chat_id": 1, "text": "json"}) as resp:
            assert (await resp.json())["result"]["text"] == "json"
        form = aiohttp.FormData()
        form.add_field("chat_id", "2")
        form.add_field("text", "123")
        form.add_field("document", b"bytes", filename="a.txt")
        async with http.post(url, data=form) as resp:
            assert (await resp.json())["result"]["text"] == "123"
        async with http.get(url, params={"chat_id": "3", "text": "get"}) as resp:
            assert resp.status == 200
        async with http.post(f"{fake_telegram.base_url}WRONG/getMe") as resp:
            assert resp.status == 404
    assert fake_telegram.calls("sendMessage")[1].params["chat_id"] == 2


async def test_standalone_process_starts() -> None:
    port = free_port()
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "tests.fakes.telegram_api", "--port", str(port),
        stdout=asyncio.subprocess.PIPE, cwd=str(__import__("pathlib").Path(__file__).parents[2]),
    )
    try:
        line = await asyncio.wait_for(proc.stdout.readline(), 20)
        assert b"fake Telegram Bot API" in line
        async with aiohttp.ClientSession() as http:
            async with http.post(f"http://127.0.0.1:{port}/bot1:x/getMe") as resp:
                assert (await resp.json())["result"]["is_bot"] is True
            await http.post(f"http://127.0.0.1:{port}/_fake/updates",
                            json=text_update(4, "你好"))
            async with http.post(f"http://127.0.0.1:{port}/bot1:x/getUpdates") as resp:
                assert (await resp.json())["result"][0]["message"]["text"] == "你好"
    finally:
        proc.terminate()
        await proc.wait()
