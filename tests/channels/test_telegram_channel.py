"""The Telegram channel end to end over loopback: Telegram-shaped HTTP → our Rasa channel
blueprint (registered as Rasa registers it) → a stub agent → real python-telegram-bot →
the fake Bot API."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time

import pytest

from bot.channels import telegram as channel_module
from bot.channels.telegram import TelegramInput, TelegramOutput
from bot.channels.texts import text
from tests.channels.harness import ChannelServer, StubAgent
from tests.fakes.telegram_api import (
    MEDIA_SAMPLES,
    FakeTelegram,
    callback_update,
    edited_update,
    media_update,
    text_update,
)

pytestmark = pytest.mark.asyncio


async def _settle(seconds: float = 0.15) -> None:
    """Let fire-and-forget sends (typing, keyboard removal) reach the fake."""
    await asyncio.sleep(seconds)


# --------------------------------------------------------------------------- the secret
async def test_wrong_or_missing_secret_is_refused(telegram_env: FakeTelegram) -> None:
    async with ChannelServer() as srv:
        assert await srv.post(text_update(1, "你好"), secret="wrong") == 403
        assert await srv.post(text_update(1, "你好"), secret=None) == 403
        assert await srv.post(text_update(1, "你好"), secret="") == 403
        await _settle()
    assert srv.agent.handled == []
    assert telegram_env.calls("sendMessage") == []


async def test_nothing_is_accepted_without_token_or_secret(
    telegram_env: FakeTelegram, monkeypatch: pytest.MonkeyPatch
) -> None:
    from bot.config import settings

    monkeypatch.delenv("TELEGRAM_SECRET_TOKEN")
    monkeypatch.delenv("TELEGRAM_TOKEN")
    settings.cache_clear()
    async with ChannelServer() as srv:
        for secret in ("", "None", "test-secret_123", None):
            assert await srv.post(text_update(1, "你好"), secret=secret) == 403
    assert srv.agent.handled == []


async def test_polling_secret_derived_from_token(
    telegram_env: FakeTelegram, monkeypatch: pytest.MonkeyPatch
) -> None:
    from bot.config import settings

    monkeypatch.delenv("TELEGRAM_SECRET_TOKEN")
    settings.cache_clear()
    derived = channel_module.webhook_secret(None, telegram_env.token)
    assert derived and derived != telegram_env.token
    async with ChannelServer() as srv:
        assert await srv.post(text_update(1, "你好"), secret="test-secret_123") == 403
        assert await srv.post(text_update(1, "你好"), secret=derived) == 200
    assert len(srv.agent.handled) == 1


# --------------------------------------------------------------------------- text
async def test_chinese_text_gets_a_chinese_reply(
    telegram_env: FakeTelegram, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    async with ChannelServer() as srv:
        assert await srv.post(text_update(4242, "我今天有点难过")) == 200
        call = await telegram_env.wait_for("sendMessage")
    assert call.params["chat_id"] == 4242
    assert call.params["text"] == "收到：我今天有点难过"
    assert "parse_mode" not in call.params  # plain text: nothing is read as markup
    message = srv.agent.handled[0]
    assert message.sender_id == "telegram:4242"
    assert message.input_channel == "telegram"
    assert message.metadata["language_code"] == "zh-hans"
    assert message.metadata["telegram"]["chat_id"] == 4242
    assert message.metadata["telegram"]["message_id"]
    assert telegram_env.token.split(":")[1] not in caplog.text  # httpx logs URLs with it


async def test_english_text_and_edited_message(telegram_env: FakeTelegram) -> None:
    async with ChannelServer() as srv:
        await srv.post(text_update(5, "hello there", language_code="en"))
        await srv.post(edited_update(5, "hello again", language_code="en"))
        await telegram_env.wait_for("sendMessage", count=2)
    assert telegram_env.sent_texts(5) == ["Got it: hello there", "Got it: hello again"]
    assert srv.agent.handled[1].metadata["telegram"]["edited"] is True


async def test_commands(telegram_env: FakeTelegram) -> None:
    async with ChannelServer() as srv:
        for body in ("/start", "/help@peiban_test_bot", "/stop", "/start INVITE42",
                     "/greet{\"x\":1}", "/ 我不想活了"):
            await srv.post(text_update(6, body))
        await srv.post(text_update(7, "/start", language_code="en"))
    texts = [m.text for m in srv.agent.handled]
    assert texts == [
        '/greet{"language": "zh"}', "/ask_help", "/stop",
        '/use_code{"invite_code": "INVITE42"}',
        'greet{"x":1}',  # typed text is never Rasa intent syntax
        "我不想活了",
        '/greet{"language": "en"}',
    ]


# --------------------------------------------------------------------------- buttons
async def test_buttons_become_an_inline_keyboard_and_callbacks_are_answered(
    telegram_env: FakeTelegram,
) -> None:
    async with ChannelServer() as srv:
        await srv.post(text_update(8, "/start"))
        greeting = await telegram_env.wait_for("sendMessage")
        keyboard = greeting.params["reply_markup"]["inline_keyboard"]
        buttons = [b for row in keyboard for b in row]
        assert [b["text"] for b in buttons] == ["我是孩子", "我是家长"]
        message_id = greeting.response["message_id"]
        data = buttons[0]["callback_data"]
        update = callback_update(8, data, message_id=message_id)
        assert await srv.post(update) == 200
        answer = await telegram_env.wait_for("answerCallbackQuery")
        await telegram_env.wait_for("editMessageReplyMarkup")
    assert answer.params["callback_query_id"] == update["callback_query"]["id"]
    assert srv.agent.handled[-1].text == '/choose_role{"role":"child"}'
    assert srv.agent.handled[-1].sender_id == "telegram:8"


async def test_long_payloads_fit_in_callback_data(telegram_env: FakeTelegram) -> None:
    long_payload = '/request_exercise{"exercise":"breathing_with_the_stars_and_counting_sheep"}'

    async def reply(message):  # type: ignore[no-untyped-def]
        if message.text == "练习":
            await message.output_channel.send_text_with_buttons(
                message.sender_id, "选一个吧", [{"title": "星星呼吸", "payload": long_payload}])

    async with ChannelServer(agent=StubAgent(reply=reply)) as srv:
        await srv.post(text_update(9, "练习"))
        sent = await telegram_env.wait_for("sendMessage")
        data = sent.params["reply_markup"]["inline_keyboard"][0][0]["callback_data"]
        assert len(data.encode()) <= 64 and data != long_payload
        await srv.post(callback_update(9, data, message_id=sent.response["message_id"]))
        await srv.post(callback_update(9, "~forgotten-after-restart"))
        expired = await telegram_env.wait_for(
            "answerCallbackQuery", lambda c: c.params.get("text"))
    assert srv.agent.handled[-1].text == long_payload
    assert expired.params["text"] == text("button.expired", "zh")


# --------------------------------------------------------------------------- media
@pytest.mark.parametrize("kind", sorted(MEDIA_SAMPLES))
async def test_media_gets_a_polite_reply(telegram_env: FakeTelegram, kind: str) -> None:
    async with ChannelServer() as srv:
        assert await srv.post(media_update(11, kind)) == 200
        call = await telegram_env.wait_for("sendMessage")
    expected = text(f"media.{kind}", "zh")
    assert call.params["text"] == expected
    assert srv.agent.handled == []


async def test_voice_reply_follows_the_users_language(telegram_env: FakeTelegram) -> None:
    async with ChannelServer() as srv:
        await srv.post(media_update(12, "voice", language_code="en"))  # first contact: code
        await srv.post(text_update(13, "我好想妈妈", language_code="en"))  # then: what they type
        await srv.post(media_update(13, "voice", language_code="en"))
        await telegram_env.wait_for("sendMessage", count=3)
    assert telegram_env.sent_texts(12) == [text("media.voice", "en")]
    assert telegram_env.sent_texts(13)[-1] == text("media.voice", "zh")


async def test_a_risk_in_a_photo_caption_goes_through_rasa(telegram_env: FakeTelegram) -> None:
    async with ChannelServer() as srv:
        await srv.post(media_update(14, "photo", caption="我不想活了"))
        crisis = await telegram_env.wait_for("sendMessage", lambda c: "110" in c.params["text"])
    assert srv.agent.handled[0].text == "我不想活了"
    assert srv.agent.handled[0].metadata["telegram"]["media"] == "photo"
    assert telegram_env.sent_texts(14) == [text("media.with_caption", "zh"),
                                           crisis.params["text"]]


# --------------------------------------------------------------------------- groups
async def test_group_chats_are_declined_once(telegram_env: FakeTelegram) -> None:
    async with ChannelServer() as srv:
        for user_id in (21, 22, 21):
            assert await srv.post(text_update(user_id, "大家好", chat_id=-555,
                                              chat_type="group")) == 200
        await srv.post(text_update(23, "hi", chat_id=-100777, chat_type="supergroup",
                                   language_code="en"))
        await _settle(0.3)
    assert srv.agent.handled == []
    assert telegram_env.sent_texts(-555) == [text("group.declined", "zh")]
    assert telegram_env.sent_texts(-100777) == [text("group.declined", "en")]


# --------------------------------------------------------------------------- robustness
async def test_a_failing_update_is_answered_200_and_the_user_told(
    telegram_env: FakeTelegram,
) -> None:
    async with ChannelServer() as srv:
        assert await srv.post(text_update(31, "炸了boom")) == 200
        call = await telegram_env.wait_for("sendMessage")
    assert call.params["text"] == text("error.retry", "zh")


async def test_bad_bodies(telegram_env: FakeTelegram) -> None:
    async with ChannelServer() as srv:
        assert await srv.post_raw(b"{not json") == 400
        assert await srv.post_raw(b"[1, 2]") == 400
        assert await srv.post_raw(json.dumps({"message": {}}).encode()) == 400  # no update_id
        assert await srv.post_raw(b"x" * (300 * 1024)) == 413
        assert await srv.post_raw(b"{not json", secret=None) == 403  # secret checked first
        # well-formed updates we do not handle, or that PTB cannot parse: 200, nothing done
        assert await srv.post({"poll": {"id": "1"}}) == 200
        assert await srv.post({"message": {"weird": True}}) == 200
        await _settle()
    assert srv.agent.handled == []
    assert telegram_env.calls("sendMessage") == []


async def test_redelivered_updates_are_handled_once(telegram_env: FakeTelegram) -> None:
    update = {"update_id": 777, **text_update(32, "你好")}
    async with ChannelServer() as srv:
        for _ in range(3):
            assert await srv.post_raw(json.dumps(update).encode()) == 200
        await _settle()
    assert len(srv.agent.handled) == 1


async def test_slow_processing_answers_telegram_in_time(telegram_env: FakeTelegram) -> None:
    channel = TelegramInput(response_timeout=0.2)
    async with ChannelServer(channel, StubAgent(delay=1.0)) as srv:
        start = time.monotonic()
        assert await srv.post(text_update(33, "慢慢来")) == 200
        assert time.monotonic() - start < 0.9
        await telegram_env.wait_for("sendMessage", timeout=5)  # processing carried on


async def test_a_long_reply_is_split_cleanly(telegram_env: FakeTelegram) -> None:
    sentence = "今天我们一起做一个小练习，慢慢吸气，再慢慢呼气。"
    long_text = sentence * 400  # ≈ 9600 characters, no blank lines

    async def reply(message):  # type: ignore[no-untyped-def]
        await message.output_channel.send_text_message(message.sender_id, long_text)

    async with ChannelServer(agent=StubAgent(reply=reply)) as srv:
        await srv.post(text_update(34, "长"))
        await telegram_env.wait_for("sendMessage", count=3)
        await _settle()
    parts = telegram_env.sent_texts(34)
    assert len(parts) == 3
    assert all(len(p) <= 4096 and p.endswith("。") for p in parts)
    assert "".join(parts) == long_text


# --------------------------------------------------------------------------- flood
async def test_one_users_flood_does_not_starve_another(
    telegram_env: FakeTelegram, cheap_safety: None
) -> None:
    agent = StubAgent(delay=0.1)  # the flooding user's 8 allowed messages take ≥ 0.8 s
    async with ChannelServer(agent=agent) as srv:
        flood = [asyncio.ensure_future(srv.post(text_update(41, f"啊{i}"))) for i in range(50)]
        await asyncio.sleep(0.02)
        start = time.monotonic()
        other = await srv.post(text_update(42, "你好呀"))
        reply = await telegram_env.wait_for("sendMessage", lambda c: c.params["chat_id"] == 42)
        latency = reply.time - start
        statuses = await asyncio.gather(*flood)
        await _settle(0.3)
    flooded_replies = [c.time for c in telegram_env.calls("sendMessage")
                       if c.params["chat_id"] == 41 and c.params["text"].startswith("收到")]
    print(f"\nother user's reply latency during a 50-update flood: {latency * 1000:.0f} ms; "
          f"flooding user's last reply after {(flooded_replies[-1] - start) * 1000:.0f} ms")
    assert other == 200 and set(statuses) == {200}
    assert reply.time < flooded_replies[-1]  # served before the flood was worked off
    assert latency < 0.6
    flooded = telegram_env.sent_texts(41)
    assert flooded.count(text("flood.slow_down", "zh")) == 1  # told once, not 42 times
    handled = [m for m in agent.handled if m.sender_id == "telegram:41"]
    assert 8 <= len(handled) <= 9  # the burst (+1 refilled while 50 arrive); the rest dropped


async def test_a_users_updates_are_handled_in_order(telegram_env: FakeTelegram) -> None:
    agent = StubAgent(delay=0.05)
    async with ChannelServer(agent=agent) as srv:
        posts = []
        for i in range(6):
            posts.append(asyncio.ensure_future(srv.post(text_update(43, f"第{i}条"))))
            await asyncio.sleep(0.01)
        await asyncio.gather(*posts)
    assert [m.text for m in agent.handled] == [f"第{i}条" for i in range(6)]


async def test_a_flood_never_drops_a_disclosure(
    telegram_env: FakeTelegram, cheap_safety: None
) -> None:
    agent = StubAgent()
    async with ChannelServer(TelegramInput(burst=2, rate=0.01), agent) as srv:
        for i in range(5):
            await srv.post(text_update(44, f"哈{i}"))
        await srv.post(text_update(44, "我不想活了"))
        await telegram_env.wait_for("sendMessage", lambda c: "110" in c.params["text"])
    assert [m.text for m in agent.handled] == ["哈0", "哈1", "我不想活了"]


# --------------------------------------------------------------------------- workers
@contextlib.contextmanager
def _fake_session_scope():  # type: ignore[no-untyped-def]
    yield "SESSION"


async def test_ack_callbacks_go_to_the_alerts_handler(
    telegram_env: FakeTelegram, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[tuple] = []

    def handle(session, chat_id, data):  # type: ignore[no-untyped-def]
        seen.append((session, chat_id, data))
        return "已确认接手个案 #5"

    monkeypatch.setattr("bot.channels.telegram.handle_telegram_callback", handle)
    monkeypatch.setattr("bot.db.session.session_scope", _fake_session_scope)
    async with ChannelServer() as srv:
        await srv.post(callback_update(900, "ack:5"))
        answer = await telegram_env.wait_for("answerCallbackQuery")
    assert seen == [("SESSION", 900, "ack:5")]
    assert answer.params["text"] == "已确认接手个案 #5"
    assert srv.agent.handled == []


async def test_link_command_redeems_a_worker_code(
    telegram_env: FakeTelegram, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[tuple] = []

    def redeem(session, code, chat_id):  # type: ignore[no-untyped-def]
        seen.append((session, code, chat_id))
        return "已绑定 / linked"

    monkeypatch.setattr("bot.channels.telegram.redeem_telegram_code", redeem)
    monkeypatch.setattr("bot.db.session.session_scope", _fake_session_scope)
    async with ChannelServer() as srv:
        await srv.post(text_update(902, "/link ABCD-1234"))
        await srv.post(text_update(903, "/link"))
        await telegram_env.wait_for("sendMessage", count=2)
    assert seen == [("SESSION", "ABCD-1234", 902)]
    assert telegram_env.sent_texts(902) == ["已绑定 / linked"]
    assert telegram_env.sent_texts(903) == [text("link.usage", "zh")]
    assert srv.agent.handled == []  # the code never reaches the tracker


# --------------------------------------------------------------------------- output
async def test_output_channel_outside_a_request(telegram_env: FakeTelegram) -> None:
    output = TelegramInput().get_output_channel()
    assert isinstance(output, TelegramOutput)
    await output.send_response("telegram:77", {"text": "今天过得怎么样？\n\n想聊聊吗？"})
    telegram_env.block(78)
    await output.send_text_message("telegram:78", "blocked user: must not raise")
    await output.send_text_message("not-a-telegram-sender", "ignored")
    telegram_env.fail_next(1, 429, retry_after=1, method="sendMessage")
    await output.send_text_message("telegram:79", "after a flood wait")
    assert telegram_env.sent_texts(77) == ["今天过得怎么样？", "想聊聊吗？"]
    assert telegram_env.sent_texts(79) == ["after a flood wait"]


# --------------------------------------------------------------------------- Rasa's wiring
async def test_rasa_mounts_the_channel_from_credentials_yml(telegram_env: FakeTelegram) -> None:
    """Rasa's own loader and app factory (as `rasa run --credentials credentials.yml`)."""
    from pathlib import Path

    from rasa.core.run import configure_app, create_http_input_channels

    credentials = Path(__file__).resolve().parents[2] / "credentials.yml"
    channels = create_http_input_channels(None, str(credentials))
    telegram_channels = [c for c in channels if isinstance(c, TelegramInput)]
    assert len(telegram_channels) == 1, "credentials.yml must list bot.channels.telegram"
    app = configure_app(channels, enable_api=True, route="/webhooks/")
    async with ChannelServer(telegram_channels[0], app=app) as srv:
        assert await srv.post(text_update(51, "你好"), secret="nope") == 403
        assert await srv.post(text_update(51, "你好")) == 200
        await telegram_env.wait_for("sendMessage")
        async with srv.http.get(srv.url + "/webhooks/telegram/") as resp:
            assert (await resp.json())["status"] == "ok"
    assert telegram_env.sent_texts(51) == ["收到：你好"]
