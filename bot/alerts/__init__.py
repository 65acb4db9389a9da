"""Alerts: the outbox, routing, senders (Telegram, webhook), the worker loop, acknowledgement.

What the rest of the project calls (light imports only; the worker and senders import
python-telegram-bot and are loaded by `python -m bot alerts worker`):

    enqueue_case_alert(session, case, kind="alert", level=0) -> list[Outbox]
    enqueue_watch_note(session, child_person, reason) -> Case
    build_alert_payload(case, lang="zh") -> dict
    route_case(session, case) -> Worker | None
    recipients_for(session, case, level) -> list[Worker]
    acknowledge_case(session, case_id, worker_id, via) -> Case
    handle_telegram_callback(session, chat_id, data) -> str
"""

from .ack import AckError, acknowledge_case, handle_telegram_callback
from .outbox import build_alert_payload, enqueue_case_alert, enqueue_watch_note
from .routing import may_act_on, recipients_for, route_case

__all__ = [
    "AckError",
    "acknowledge_case",
    "build_alert_payload",
    "enqueue_case_alert",
    "enqueue_watch_note",
    "handle_telegram_callback",
    "may_act_on",
    "recipients_for",
    "route_case",
]
