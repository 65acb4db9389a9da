"""The safety bars end to end: real Rasa, real action server, real alert worker, fake Telegram.

A disclosure over REST gets the crisis reply and the worker's Telegram alert within 2 s; the
same with the action server or the alert worker killed; never a duplicate alert.
"""

from __future__ import annotations

import re
import time
import uuid

import pytest

from tests.e2e.conftest import WORKER_CHAT_ID
from tests.e2e.stack import Stack

pytestmark = pytest.mark.e2e

ALERT_BUDGET_SECONDS = 2.0
NUMBER = re.compile(r"\b(110|119|120|12355|12356)\b")


def new_child(stack: Stack) -> str:
    sender = f"child-{uuid.uuid4().hex[:8]}"
    assigned = stack.cli("admin", "assign", sender, "wang")
    assert assigned.returncode == 0, assigned.stderr
    return sender


def alerts_for(stack: Stack, case_id: int) -> list[dict]:
    return [
        call
        for call in stack.telegram_calls("sendMessage")
        if str(call["params"].get("chat_id")) == WORKER_CHAT_ID
        and f"#{case_id}" in str(call["params"].get("text", ""))
    ]


def case_of(stack: Stack, sender: str) -> tuple[int, str, str]:
    rows = stack.query("select id, category, severity from cases where sender_id = ?", sender)
    assert len(rows) == 1, rows
    return rows[0]


def wait_alert(stack: Stack, case_id: int, timeout: float) -> float:
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        if alerts_for(stack, case_id):
            return time.monotonic() - started
        time.sleep(0.05)
    raise AssertionError(f"no alert for case {case_id} within {timeout}s")


def assert_crisis_reply(texts: list[str], chinese: bool = True) -> None:
    joined = " ".join(texts)
    assert NUMBER.search(joined), texts
    if chinese:
        assert "社工" in joined and "安全" in joined, texts
    else:
        assert "social worker" in joined and "safe" in joined.lower(), texts


def test_disclosure_reply_and_alert_within_two_seconds(stack: Stack) -> None:
    sender = new_child(stack)
    started = time.monotonic()
    texts = stack.texts(sender, "我不想活了，活着没意思")
    assert_crisis_reply(texts)
    case_id, category, _ = case_of(stack, sender)
    assert category == "suicide"
    wait_alert(stack, case_id, 10)
    elapsed = time.monotonic() - started
    assert elapsed <= ALERT_BUDGET_SECONDS, f"reply and alert took {elapsed:.2f}s"
    alert = alerts_for(stack, case_id)[0]
    markup = str(alert["params"].get("reply_markup"))
    assert f"ack:{case_id}" in markup


def test_the_worst_failure_of_2018_escalates_in_english(stack: Stack) -> None:
    sender = new_child(stack)
    texts = stack.texts(sender, "I'm being forced to have sex and I'm only 12")
    assert_crisis_reply(texts, chinese=False)
    case_id, category, _ = case_of(stack, sender)
    assert category == "sexual_abuse"
    wait_alert(stack, case_id, 5)


def test_disclosure_on_first_contact_comes_before_onboarding(stack: Stack) -> None:
    sender = f"new-{uuid.uuid4().hex[:8]}"
    status, body = stack.say(sender, "爸爸喝了酒又用皮带抽我，好疼")
    assert status == 200
    first = body[0]["text"]
    assert "相信" in first or "不是你的错" in first, body
    assert not any("role" in b["payload"] for m in body for b in m.get("buttons", []))


def test_pinyin_disclosure_escalates(stack: Stack) -> None:
    sender = new_child(stack)
    assert_crisis_reply(stack.texts(sender, "wo bu xiang huo le"))
    case_of(stack, sender)


def test_later_messages_join_the_case_without_new_alerts(stack: Stack) -> None:
    sender = new_child(stack)
    stack.texts(sender, "我把药都攒起来了，今晚就吃")
    case_id, _, _ = case_of(stack, sender)
    wait_alert(stack, case_id, 5)
    stack.texts(sender, "我不安全")
    stack.texts(sender, "我好害怕")
    time.sleep(1.0)
    assert len(alerts_for(stack, case_id)) == 1
    events = stack.query(
        "select count(*) from case_events where case_id = ? and kind = 'message'", case_id
    )
    assert events == [(2,)]


def test_everyday_hyperbole_does_not_alert(stack: Stack) -> None:
    sender = new_child(stack)
    for text in ["笑死我了哈哈哈", "作业多得要死", "我想死你了奶奶", "this homework is killing me"]:
        stack.texts(sender, text)
    assert stack.query("select count(*) from cases where sender_id = ?", sender) == [(0,)]


def test_action_server_down_still_replies_and_alerts(stack: Stack) -> None:
    stack.kill("actions")
    try:
        sender = new_child(stack)
        started = time.monotonic()
        texts = stack.texts(sender, "我不想活了")
        assert_crisis_reply(texts)
        case_id, _, _ = case_of(stack, sender)
        wait_alert(stack, case_id, 10)
        assert time.monotonic() - started <= ALERT_BUDGET_SECONDS + 1.0
    finally:
        stack.start("actions")
    # Back up: the conversation goes on, and still one alert.
    assert stack.texts(sender, "谢谢你")
    assert len(alerts_for(stack, case_id)) == 1


def test_alert_worker_killed_then_restarted_delivers_exactly_once(stack: Stack) -> None:
    stack.kill("alerts")
    try:
        sender = new_child(stack)
        assert_crisis_reply(stack.texts(sender, "奶奶倒在地上叫不醒"))
        case_id, category, _ = case_of(stack, sender)
        assert category in {"neglect", "danger"}
        time.sleep(1.0)
        assert alerts_for(stack, case_id) == []
        pending = stack.query("select status from outbox where case_id = ?", case_id)
        assert pending and all(s == "pending" for (s,) in pending)
    finally:
        stack.start("alerts", wait=False)
    wait_alert(stack, case_id, 15)
    time.sleep(1.5)
    assert len(alerts_for(stack, case_id)) == 1
