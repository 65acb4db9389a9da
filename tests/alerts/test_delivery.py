"""Delivery through the worker loop to a fake Bot API (and a webhook) on loopback."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest_asyncio
from aiohttp import web
from sqlalchemy import select

from bot.alerts import texts
from bot.alerts.ack import acknowledge_case, handle_telegram_callback
from bot.alerts.outbox import enqueue_case_alert
from bot.alerts.senders import verify_signature
from bot.alerts.worker import AlertWorker
from bot.config import settings
from bot.db.models import AuditLog, Case, CaseEvent, Worker
from bot.db.session import session_scope
from tests.fakes.telegram_api import FakeTelegram, free_port

from . import factories as f
from .helpers import callback_data, eventually, get_case, outbox_rows, seed_team_case, sent_to

StartWorker = Callable[[], Awaitable[AlertWorker]]


@pytest_asyncio.fixture
async def start_worker(db_url: str, telegram_env: FakeTelegram) -> AsyncIterator[StartWorker]:
    running: list[tuple[asyncio.Event, asyncio.Task]] = []

    async def start() -> AlertWorker:
        worker = AlertWorker(db_url)
        stop = asyncio.Event()
        running.append((stop, asyncio.create_task(worker.run(stop))))
        return worker

    yield start
    for stop, task in running:
        stop.set()
        await asyncio.wait_for(task, 10)


class Receiver:
    """A webhook endpoint on loopback that records requests and answers with scripted codes."""

    def __init__(self) -> None:
        self.requests: list[tuple[dict[str, str], bytes]] = []
        self.statuses: list[int] = []
        self.url = ""

    async def handle(self, request: web.Request) -> web.Response:
        self.requests.append((dict(request.headers), await request.read()))
        status = self.statuses.pop(0) if self.statuses else 200
        return web.json_response({"ok": status == 200}, status=status)

    async def __aenter__(self) -> Receiver:
        app = web.Application()
        app.router.add_post("/hook", self.handle)
        self.runner = web.AppRunner(app)
        await self.runner.setup()
        port = free_port()
        await web.TCPSite(self.runner, "127.0.0.1", port).start()
        self.url = f"http://127.0.0.1:{port}/hook"
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.runner.cleanup()


async def test_alert_reaches_the_worker_with_the_ack_button(
    db_url: str, telegram_env: FakeTelegram, start_worker: StartWorker
) -> None:
    case_id = seed_team_case(db_url)
    await start_worker()
    call = await telegram_env.wait_for("sendMessage")
    assert call.params["chat_id"] == 501 and call.params["parse_mode"] == "HTML"
    keyboard = call.params["reply_markup"]["inline_keyboard"]
    assert keyboard[0][0] == {"text": texts.ACK_BUTTON, "callback_data": f"ack:{case_id}"}
    assert keyboard[1][0]["url"] == f"https://console.example.org/cases/{case_id}"
    assert "我不想活了" in call.params["text"] and "强制报告" in call.params["text"]
    await eventually(lambda: outbox_rows(db_url)[0].status == "sent")
    [row] = outbox_rows(db_url)
    assert row.provider_message_id == str(call.response["message_id"]) and row.attempts == 1


async def test_no_link_button_for_a_loopback_console(
    db_url: str, telegram_env: FakeTelegram, start_worker: StartWorker, monkeypatch
) -> None:
    monkeypatch.setenv("PEIBAN_CONSOLE_URL", "http://127.0.0.1:8080")
    settings.cache_clear()
    case_id = seed_team_case(db_url)
    await start_worker()
    call = await telegram_env.wait_for("sendMessage")
    assert call.params["reply_markup"]["inline_keyboard"] == [
        [{"text": texts.ACK_BUTTON, "callback_data": f"ack:{case_id}"}]
    ]
    assert f"http://127.0.0.1:8080/cases/{case_id}" in call.params["text"]  # still in the text


async def test_signed_webhook(
    db_url: str, telegram_env: FakeTelegram, start_worker: StartWorker, monkeypatch
) -> None:
    async with Receiver() as hook:
        hook.statuses = [503]  # one transient failure first
        monkeypatch.setenv("ESCALATION_WEBHOOK_URL", hook.url)
        monkeypatch.setenv("ESCALATION_WEBHOOK_SECRET", "s3cret")
        settings.cache_clear()
        case_id = seed_team_case(db_url)
        await start_worker()
        await eventually(lambda: len(hook.requests) == 2)
        for headers, body in hook.requests:
            assert verify_signature("s3cret", body, headers["X-Peiban-Signature"])
            assert not verify_signature("wrong", body, headers["X-Peiban-Signature"])
            assert headers["X-Peiban-Delivery"].startswith(f"case:{case_id}:alert:0:webhook:")
        payload = json.loads(hook.requests[-1][1])
        assert payload["case_id"] == case_id and payload["category"] == "suicide"
        assert payload["delivery"] == hook.requests[-1][0]["X-Peiban-Delivery"]
        await eventually(lambda: all(r.status == "sent" for r in outbox_rows(db_url)))


async def test_webhook_client_error_is_permanent(
    db_url: str, telegram_env: FakeTelegram, start_worker: StartWorker, monkeypatch
) -> None:
    async with Receiver() as hook:
        hook.statuses = [410]
        monkeypatch.setenv("ESCALATION_WEBHOOK_URL", hook.url)
        settings.cache_clear()
        seed_team_case(db_url)
        await start_worker()
        await eventually(
            lambda: (
                {r.channel: r.status for r in outbox_rows(db_url)}
                == {"telegram": "sent", "webhook": "failed"}
            )
        )
        await asyncio.sleep(0.3)
        assert len(hook.requests) == 1


async def test_retries_with_backoff_after_500s(
    db_url: str, telegram_env: FakeTelegram, start_worker: StartWorker
) -> None:
    telegram_env.fail_next(3, 500, method="sendMessage")
    seed_team_case(db_url)
    await start_worker()
    ok = await telegram_env.wait_for("sendMessage")
    attempts = [c.time for c in telegram_env.log if c.method == "sendMessage"]
    assert len(attempts) == 4
    gaps = [b - a for a, b in zip(attempts, attempts[1:], strict=False)]
    # base 0.05 s, jitter 50-100 %: at least 0.025, 0.05, 0.1 s
    assert all(gap >= 0.025 * 2**i for i, gap in enumerate(gaps)), gaps
    await eventually(lambda: outbox_rows(db_url)[0].status == "sent")
    [row] = outbox_rows(db_url)
    assert row.attempts == 4 and row.last_error is None
    assert row.provider_message_id == str(ok.response["message_id"])


async def test_flood_control_retry_after_is_honoured(
    db_url: str, telegram_env: FakeTelegram, start_worker: StartWorker
) -> None:
    telegram_env.fail_next(1, 429, retry_after=1, method="sendMessage")
    seed_team_case(db_url)
    await start_worker()
    await telegram_env.wait_for("sendMessage", timeout=5)
    first, second = [c.time for c in telegram_env.log if c.method == "sendMessage"]
    assert second - first >= 1.0


async def test_blocked_worker_falls_through_to_the_supervisor(
    db_url: str, telegram_env: FakeTelegram, start_worker: StartWorker
) -> None:
    telegram_env.block(501)
    case_id = seed_team_case(db_url)
    await start_worker()
    call = await telegram_env.wait_for("sendMessage", lambda c: c.params["chat_id"] == 900)
    assert "升级" in call.params["text"] and callback_data(call) == f"ack:{case_id}"
    await eventually(lambda: [r.status for r in outbox_rows(db_url)] == ["failed", "sent"])
    first = outbox_rows(db_url)[0]
    assert first.attempts == 1 and "blocked" in first.last_error  # no retry of a permanent error
    assert get_case(db_url, case_id).escalation_level == 2
    with session_scope(db_url) as s:
        actions = s.execute(select(AuditLog.action)).scalars().all()
    assert "alert_failed" in actions


async def test_chat_not_found_is_permanent(
    db_url: str, telegram_env: FakeTelegram, start_worker: StartWorker
) -> None:
    telegram_env.fail_next(1, 400, description="Bad Request: chat not found", method="sendMessage")
    seed_team_case(db_url)
    await start_worker()
    await telegram_env.wait_for("sendMessage", lambda c: c.params["chat_id"] == 900)
    assert len([c for c in telegram_env.log if c.params.get("chat_id") == 501]) == 1


async def test_renotify_then_escalate_then_stop(
    db_url: str, telegram_env: FakeTelegram, start_worker: StartWorker, monkeypatch
) -> None:
    monkeypatch.setenv("PEIBAN_RENOTIFY_SCALE", "0.001")  # imminent: 5 min -> 0.3 s
    monkeypatch.setenv("PEIBAN_RENOTIFY_SCAN_SECONDS", "0.05")
    case_id = seed_team_case(db_url)
    await start_worker()
    await telegram_env.wait_for("sendMessage", lambda c: c.params["chat_id"] == 900, count=2)
    await asyncio.sleep(1.0)  # well past three more deadlines: nothing else is sent
    worker_texts = [c.params["text"] for c in sent_to(telegram_env, 501)]
    boss_texts = [c.params["text"] for c in sent_to(telegram_env, 900)]
    assert (
        len(worker_texts) == 2 and "风险警报" in worker_texts[0] and "再次提醒" in worker_texts[1]
    )
    assert len(boss_texts) == 2 and all("升级" in t and "Wang" in t for t in boss_texts)
    case = get_case(db_url, case_id)
    assert case.escalation_level == 3 and case.notify_due_at is None and case.status == "open"


async def test_ack_in_telegram_stops_renotification(
    db_url: str, telegram_env: FakeTelegram, start_worker: StartWorker, monkeypatch
) -> None:
    monkeypatch.setenv("PEIBAN_RENOTIFY_SCALE", "0.001")
    monkeypatch.setenv("PEIBAN_RENOTIFY_SCAN_SECONDS", "0.05")
    case_id = seed_team_case(db_url, severity="high")  # 30 min -> 1.8 s
    await start_worker()
    call = await telegram_env.wait_for("sendMessage")
    with session_scope(db_url) as s:
        reply = handle_telegram_callback(s, call.params["chat_id"], callback_data(call))
    assert reply.startswith(f"已确认接手个案 #{case_id}") and "acknowledged" in reply
    await asyncio.sleep(2.5)
    assert len(telegram_env.calls("sendMessage")) == 1
    with session_scope(db_url) as s:  # the console acknowledging too is the same state
        acknowledge_case(s, case_id, 2, "console")
        case = s.get(Case, case_id)
        acks = s.execute(select(CaseEvent).where(CaseEvent.kind == "ack")).scalars().all()
        assert case.status == "acknowledged" and case.notify_due_at is None
        assert [(a.worker_id, a.data) for a in acks] == [(2, {"via": "telegram"})]


async def test_rows_waiting_for_a_telegram_link_are_delivered_once_linked(
    db_url: str, telegram_env: FakeTelegram, start_worker: StartWorker
) -> None:
    with session_scope(db_url) as s:
        boss, social, kid = f.team(s, worker_chat=None, boss_chat=None)
        case = f.case(s, kid)
        enqueue_case_alert(s, case)
    await start_worker()
    await asyncio.sleep(0.5)
    assert telegram_env.calls("sendMessage") == []
    with session_scope(db_url) as s:
        s.execute(select(Worker)).scalars().all()[1].telegram_chat_id = "501"  # wang links
    await telegram_env.wait_for("sendMessage", lambda c: c.params["chat_id"] == 501)
    with session_scope(db_url) as s:
        s.execute(select(Worker)).scalars().all()[0].telegram_chat_id = "900"  # the boss too
    await telegram_env.wait_for("sendMessage", lambda c: c.params["chat_id"] == 900)
    await asyncio.sleep(0.6)
    # Level 2 and level 3 both resolve to the boss: one message, the other row is covered.
    assert len(sent_to(telegram_env, 900)) == 1 and len(sent_to(telegram_env, 501)) == 1
    statuses = sorted(r.status for r in outbox_rows(db_url))
    assert statuses == ["cancelled", "sent", "sent"]


async def test_reminder_queued_before_an_ack_is_not_sent(
    db_url: str, telegram_env: FakeTelegram, start_worker: StartWorker
) -> None:
    case_id = seed_team_case(db_url)
    with session_scope(db_url) as s:
        case = s.get(Case, case_id)
        enqueue_case_alert(s, case, kind="renotify", level=1)
        case.status = "acknowledged"  # e.g. a console path that only sets the status
    await start_worker()
    await eventually(lambda: [r.status for r in outbox_rows(db_url)] == ["sent", "cancelled"])
    assert len(telegram_env.calls("sendMessage")) == 1


async def test_watch_note_is_sent_silently(
    db_url: str, telegram_env: FakeTelegram, start_worker: StartWorker
) -> None:
    from bot.alerts.outbox import enqueue_watch_note

    with session_scope(db_url) as s:
        boss, social, kid = f.team(s)
        enqueue_watch_note(s, kid, "心情打卡连续三次 1 分")
    await start_worker()
    call = await telegram_env.wait_for("sendMessage")
    assert call.params["disable_notification"] is True and "关注提醒" in call.params["text"]
    assert "强制报告" not in call.params["text"]


async def test_worker_runs_the_escalation_sweep_when_provided(
    db_url: str, telegram_env: FakeTelegram, start_worker: StartWorker, monkeypatch
) -> None:
    import bot.escalation

    calls: list[str | None] = []
    monkeypatch.setenv("PEIBAN_SWEEP_SECONDS", "0.05")
    monkeypatch.setattr(bot.escalation, "sweep", lambda url: calls.append(url) or 0, raising=False)
    await start_worker()
    await eventually(lambda: len(calls) >= 2)
    assert set(calls) == {db_url}
