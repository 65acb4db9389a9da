"""Issue 6's bars against the real stack: trained model, Rasa server with our channel from
credentials.yml, action server, alert worker and the fake Bot API as separate processes.

Skipped without ``models/peiban.tar.gz``. It starts its own stack (module scope); if you
would rather share the e2e session stack, move this file to tests/e2e/ and delete the
``stack`` fixture below — the tests only need a running :class:`Stack`.
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from tests.e2e.stack import MODEL, Stack, http
from tests.fakes.telegram_api import callback_update, media_update, text_update

pytestmark = pytest.mark.e2e

WORKER_CHAT_ID = 777001
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    if not MODEL.exists():
        pytest.skip(f"no trained model at {MODEL}: run `make train` (make test does it first)")
    running = Stack(tmp_path_factory.mktemp("tgstack"))
    running.migrate()
    added = running.cli("admin", "add-worker", "li", "--telegram-chat-id", str(WORKER_CHAT_ID),
                        "--on-call", stdin="correct-horse-battery-9\n")
    assert added.returncode == 0, added.stderr
    try:
        running.start("telegram")
        try:
            running.start("actions")
        except (RuntimeError, TimeoutError) as exc:
            # These bars must hold without the action server (the safety chain never needs
            # it), so a broken action module elsewhere does not hide channel regressions.
            warnings.warn(f"action server not running: {str(exc)[-300:]}", stacklevel=1)
        for name in ("rasa", "alerts"):
            running.start(name)
        hook = f"http://127.0.0.1:{running.ports['rasa']}/webhooks/telegram/webhook"
        done = running.cli("telegram", "set-webhook", hook)
        assert done.returncode == 0, done.stderr
        yield running
    finally:
        running.stop_all()


def deliver(stack: Stack, update: dict[str, Any]) -> None:
    """Telegram (the fake) POSTs the update to the webhook set above, with the secret."""
    url = f"http://127.0.0.1:{stack.ports['telegram']}/_fake/updates"
    status, body = http("POST", url, update, timeout=60)
    assert status == 200 and body["webhook_status"] == 200, body


def wait_calls(stack: Stack, method: str, predicate: Callable[[dict], bool],
               count: int = 1, timeout: float = 30) -> list[dict[str, Any]]:
    deadline = time.monotonic() + timeout
    while True:
        found = [c for c in stack.telegram_calls(method) if predicate(c["params"])]
        if len(found) >= count or time.monotonic() > deadline:
            return found
        time.sleep(0.2)


def to_chat(chat_id: int) -> Callable[[dict], bool]:
    return lambda params: str(params.get("chat_id")) == str(chat_id)


HOTLINES = ("110", "120", "119", "12355", "12356")


def is_crisis_reply(texts: list[str]) -> bool:
    return any(number in text for text in texts for number in HOTLINES)


def is_chinese(text: str) -> bool:
    return any("\u4e00" <= ch <= "\u9fff" for ch in text)


def test_wrong_or_missing_secret_gets_403_and_no_reply(stack: Stack) -> None:
    url = f"http://127.0.0.1:{stack.ports['rasa']}/webhooks/telegram/webhook"
    update = {"update_id": 990001, **text_update(880001, "你好")}
    assert http("POST", url, update, headers={SECRET_HEADER: "guess"})[0] == 403
    assert http("POST", url, update)[0] == 403
    time.sleep(2)
    assert wait_calls(stack, "sendMessage", to_chat(880001), timeout=0) == []


def test_chinese_text_gets_chinese_reply(stack: Stack) -> None:
    deliver(stack, text_update(880002, "你好"))
    sent = wait_calls(stack, "sendMessage", to_chat(880002))
    assert sent and is_chinese(sent[0]["params"]["text"])


def test_callback_is_answered_and_reaches_rasa(stack: Stack) -> None:
    # The crisis follow-up ("are you safe now?") has buttons and needs no action server.
    deliver(stack, text_update(880003, "我不想活了"))
    sent = wait_calls(stack, "sendMessage", lambda p: to_chat(880003)(p)
                      and p.get("reply_markup"))
    assert sent, wait_calls(stack, "sendMessage", to_chat(880003), timeout=0)
    button = sent[-1]["params"]["reply_markup"]["inline_keyboard"][0][0]
    replies_before = len(wait_calls(stack, "sendMessage", to_chat(880003), timeout=0))
    update = callback_update(880003, button["callback_data"],
                             message_id=sent[-1]["response"]["message_id"])
    deliver(stack, update)
    answered = wait_calls(stack, "answerCallbackQuery", lambda p: p.get(
        "callback_query_id") == update["callback_query"]["id"])
    assert answered
    after = wait_calls(stack, "sendMessage", to_chat(880003), count=replies_before + 1)
    assert len(after) > replies_before  # the payload reached Rasa, which answered


def test_voice_gets_a_polite_reply(stack: Stack) -> None:
    deliver(stack, media_update(880004, "voice"))
    sent = wait_calls(stack, "sendMessage", to_chat(880004))
    assert sent and "文字" in sent[0]["params"]["text"]


def test_disclosure_gets_crisis_reply_and_worker_alert(stack: Stack) -> None:
    before = len(wait_calls(stack, "sendMessage", to_chat(WORKER_CHAT_ID), timeout=0))
    deliver(stack, text_update(880005, "我不想活了，晚上想喝农药"))
    crisis = wait_calls(stack, "sendMessage", to_chat(880005))
    assert is_crisis_reply([c["params"]["text"] for c in crisis]), crisis
    alerts = wait_calls(stack, "sendMessage", to_chat(WORKER_CHAT_ID), count=before + 1,
                        timeout=60)
    assert len(alerts) > before, stack.tail("alerts")


def test_a_caption_disclosure_escalates(stack: Stack) -> None:
    deliver(stack, media_update(880006, "photo", caption="我不想活了"))
    sent = wait_calls(stack, "sendMessage", to_chat(880006), count=2)
    assert is_crisis_reply([c["params"]["text"] for c in sent]), sent


def test_flood_from_one_user_does_not_starve_another(stack: Stack) -> None:
    import concurrent.futures

    with concurrent.futures.ThreadPoolExecutor(max_workers=25) as pool:
        flood = [pool.submit(deliver, stack, text_update(880007, f"哈哈{i}")) for i in range(50)]
        time.sleep(0.05)
        start = time.monotonic()
        deliver(stack, text_update(880008, "你好"))
        other = wait_calls(stack, "sendMessage", to_chat(880008))
        latency = time.monotonic() - start
        for future in flood:
            future.result()
    assert other
    print(f"\nother user's reply latency during a 50-update flood (real model): {latency:.2f}s")
    assert latency < 10
