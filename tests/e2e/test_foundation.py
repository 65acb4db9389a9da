"""The foundation's bars over real HTTP: language per user, onboarding, bad input."""

from __future__ import annotations

import uuid

import pytest

from tests.e2e.stack import Stack, http

pytestmark = pytest.mark.e2e

CJK = "\u4e00-\u9fff"


def sender() -> str:
    return f"e2e-{uuid.uuid4().hex[:10]}"


def is_chinese(text: str) -> bool:
    return any("\u4e00" <= ch <= "\u9fff" for ch in text)


def test_chinese_greeting_gets_chinese_intro_and_role_buttons(stack: Stack) -> None:
    status, body = stack.say(sender(), "你好")
    assert status == 200 and body
    assert all(is_chinese(m.get("text", "")) for m in body if m.get("text"))
    buttons = [b for m in body for b in m.get("buttons", [])]
    assert any("child" in b["payload"] for b in buttons)
    assert any("机器人" in m.get("text", "") for m in body)


def test_english_greeting_gets_english(stack: Stack) -> None:
    status, body = stack.say(sender(), "hello")
    assert status == 200 and body
    assert all(not is_chinese(m.get("text", "")) for m in body if m.get("text"))
    assert any(
        "robot" in m.get("text", "").lower() or "bot" in m.get("text", "").lower() for m in body
    )


def test_language_follows_the_user_when_they_switch(stack: Stack) -> None:
    user = sender()
    assert all(is_chinese(t) for t in stack.texts(user, "你好") if t)
    assert all(not is_chinese(t) for t in stack.texts(user, "thank you so much") if t)
    assert all(is_chinese(t) for t in stack.texts(user, "谢谢你") if t)


def test_onboarding_remembers_role_and_age(stack: Stack) -> None:
    user = sender()
    stack.say(user, "你好")
    status, body = stack.say(user, '/choose_role{"role": "child"}')
    assert status == 200
    assert any("age_band" in b["payload"] for m in body for b in m.get("buttons", []))
    stack.say(user, '/choose_age{"age_band": "8-10"}')
    rows = stack.query("select role, age_band from people where sender_id = ?", user)
    assert rows == [("child", "8-10")]
    # A returning user is greeted, not asked again.
    _, again = stack.say(user, "你好")
    assert not any("role" in b["payload"] for m in again for b in m.get("buttons", []))


@pytest.mark.parametrize(
    "message",
    [
        "",
        "   ",
        "\u0000\u0007\u001b[31m",
        "😀😀😀🙏",
        "字" * 10_000,
        "a" * 10_000,
        "繁體中文測試，你們好嗎？",
        "ｗｏ　ｂｕ　ｘｉａｎｇ",
        "wo hao xiang mama",
        "<script>alert(1)</script>",
    ],
)
def test_odd_messages_get_a_reply_or_clear_4xx_never_500(stack: Stack, message: str) -> None:
    status, body = stack.say(sender(), message, timeout=60)
    assert status < 500, body
    if status == 200:
        assert isinstance(body, list)


@pytest.mark.parametrize(
    "raw",
    [b"{not json", b"", b"\xff\xfe\x00binary", b"[]", b'{"sender": 1}', b'{"message": "hi"}'],
)
def test_malformed_requests_never_500(stack: Stack, raw: bytes) -> None:
    url = f"http://127.0.0.1:{stack.ports['rasa']}/webhooks/rest/webhook"
    status, _ = http("POST", url, raw=raw)
    assert status < 500


def test_server_still_answers_after_bad_input(stack: Stack) -> None:
    assert stack.texts(sender(), "你好")
