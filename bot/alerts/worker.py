"""The alert worker: claims due outbox rows, sends them, retries, re-notifies.

Delivery is at least once. A row is claimed with a conditional UPDATE (so two workers never
both send it) and a lease; if the worker dies mid-send the lease expires and the row is sent
again, marked as a possible duplicate. Everything else (retries, re-notification) is
decided in the database, so any number of workers can run and restart at any time.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import importlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, or_, select, update
from sqlalchemy import case as sql_case
from sqlalchemy.orm import Session, aliased

from bot.config import settings
from bot.db.audit import record
from bot.db.models import Case, Outbox, Worker, utcnow
from bot.db.session import session_scope

from . import texts
from .outbox import (
    TELEGRAM,
    WEBHOOK,
    build_alert_payload,
    case_url,
    enqueue_case_alert,
    is_public_url,
)
from .routing import next_level, recipients_for
from .senders import RetryableError, SendError, TelegramSender, WebhookSender
from .timing import (
    MAX_LEVEL,
    ack_deadline,
    backoff,
    claim_lease,
    poll_interval,
    renotify_scan_interval,
    send_timeout,
    sweep_interval,
    unrouted_recheck,
)

log = logging.getLogger("bot.alerts.worker")

BATCH = 20
REMINDER_KINDS = ("renotify", "escalate")


@dataclass(frozen=True)
class Claim:
    id: int
    fence: int  # attempts after our claim: finishing requires it unchanged (lease not stolen)
    stale: bool  # taken over from a worker whose lease expired mid-send


@dataclass
class Job:
    claim: Claim
    channel: str
    recipient: str
    kind: str
    case_id: int
    dedupe_key: str
    payload: dict[str, Any]
    created_at: dt.datetime


def _due(now: dt.datetime) -> Any:
    return or_(
        and_(Outbox.status == "pending", Outbox.next_attempt_at <= now),
        and_(Outbox.status == "sending", Outbox.claimed_until < now),
    )


def _fenced(claim: Claim) -> Any:
    return and_(Outbox.id == claim.id, Outbox.status == "sending", Outbox.attempts == claim.fence)


class AlertWorker:
    """One worker process's loop. `url` picks the database (tests), default DATABASE_URL."""

    def __init__(
        self,
        url: str | None = None,
        telegram: TelegramSender | None = None,
        webhook: WebhookSender | None = None,
    ) -> None:
        self.url = url
        config = settings()
        if telegram is None and config.telegram_token:
            telegram = TelegramSender(
                config.telegram_token, config.telegram_api_base_url, timeout=send_timeout()
            )
        self.telegram = telegram
        self.webhook = webhook or WebhookSender(config.escalation_webhook_secret, send_timeout())
        self.link_button = is_public_url(config.console_url)
        self.delivered = 0
        self._last_scan = 0.0

    # --- claiming ---------------------------------------------------------------------------

    def claim_due(self, limit: int = BATCH) -> list[Claim]:
        now = utcnow()
        with session_scope(self.url) as session:
            low_priority = sql_case((Outbox.kind == "watch", 1), else_=0)
            candidates = session.execute(
                select(Outbox.id, Outbox.status)
                .where(_due(now))
                .order_by(low_priority, Outbox.next_attempt_at, Outbox.id)
                .limit(limit)
            ).all()
            claims = []
            for row_id, status in candidates:
                claim = self._claim(session, row_id, status, now)
                if claim is not None:
                    claims.append(claim)
        return claims

    def _claim(self, session: Session, row_id: int, status: str, now: dt.datetime) -> Claim | None:
        won = session.execute(
            update(Outbox)
            .where(Outbox.id == row_id, _due(now))
            .values(
                status="sending", claimed_until=now + claim_lease(), attempts=Outbox.attempts + 1
            )
            .execution_options(synchronize_session=False)
        ).rowcount
        if not won:
            return None  # another worker was faster
        attempts = session.execute(select(Outbox.attempts).where(Outbox.id == row_id)).scalar_one()
        return Claim(row_id, attempts, stale=status == "sending")

    # --- preparing: everything that needs the database before the network ------------------

    def prepare(self, claim: Claim) -> Job | None:
        with session_scope(self.url) as session:
            row = session.get(Outbox, claim.id)
            case = session.get(Case, row.case_id) if row and row.case_id else None
            if row is None or case is None:
                self._finish(session, claim, status="failed", error="case missing")
                return None
            if row.kind in REMINDER_KINDS and case.status != "open":
                self._finish(session, claim, status="cancelled", error=f"case {case.status}")
                return None
            if (
                row.channel == TELEGRAM
                and not row.recipient
                and not self._route(session, claim, row, case)
            ):
                return None
            if not self._extend_lease(session, claim):
                return None
            level = int((row.payload or {}).get("level", 0))
            payload = build_alert_payload(
                case, (row.payload or {}).get("lang", "zh"), row.kind, level
            )
            payload["delivery"] = row.dedupe_key
            if claim.stale:
                payload["possible_duplicate"] = True
                payload["text"] += "\n" + texts.bilingual(texts.POSSIBLE_DUPLICATE)
            return Job(
                claim,
                row.channel,
                row.recipient,
                row.kind,
                case.id,
                row.dedupe_key,
                payload,
                row.created_at,
            )

    def _extend_lease(self, session: Session, claim: Claim) -> bool:
        """The lease counts from now: the send and its bookkeeping fit inside it."""
        return bool(
            session.execute(
                update(Outbox)
                .where(_fenced(claim))
                .values(claimed_until=utcnow() + claim_lease())
                .execution_options(synchronize_session=False)
            ).rowcount
        )

    def _route(self, session: Session, claim: Claim, row: Outbox, case: Case) -> bool:
        """Give a row written before anyone linked Telegram its recipient, or wait again."""
        level = int((row.payload or {}).get("level", 0))
        target = next((w for w in recipients_for(session, case, level) if w.telegram_chat_id), None)
        if target is None:
            self._finish(
                session,
                claim,
                status="pending",
                error="no linked Telegram chat yet",
                next_at=utcnow() + unrouted_recheck(),
            )
            return False
        # One statement, so two rows of one case resolving at once cannot both take the chat.
        others = aliased(Outbox)
        taken = (
            select(others.id)
            .where(
                others.case_id == case.id,
                others.channel == TELEGRAM,
                others.id != row.id,
                others.recipient == target.telegram_chat_id,
                others.status.in_(("pending", "sending", "sent")),
            )
            .exists()
        )
        won = session.execute(
            update(Outbox)
            .where(_fenced(claim), ~taken)
            .values(recipient=target.telegram_chat_id, worker_id=target.id)
            .execution_options(synchronize_session=False)
        ).rowcount
        if not won:
            self._finish(session, claim, status="cancelled", error="covered by another row")
            return False
        row.recipient, row.worker_id = target.telegram_chat_id, target.id
        return True

    # --- sending ------------------------------------------------------------------------------

    async def send(self, job: Job) -> str:
        if job.channel == WEBHOOK:
            return await self.webhook.send(job.recipient, job.payload, job.dedupe_key)
        if self.telegram is None:
            raise RetryableError("TELEGRAM_TOKEN is not set")
        url = case_url(job.case_id) if self.link_button else None
        return await self.telegram.send(
            job.recipient, job.payload["text"], job.case_id, url, silent=job.kind == "watch"
        )

    async def deliver(self, claim: Claim) -> None:
        job = await asyncio.to_thread(self.prepare, claim)
        if job is None:
            return
        started = time.monotonic()
        try:
            message_id = await asyncio.wait_for(self.send(job), send_timeout() + 1)
        except asyncio.TimeoutError:
            await asyncio.to_thread(self.failed, job, RetryableError("send timed out"))
        except SendError as exc:
            await asyncio.to_thread(self.failed, job, exc)
        else:
            await asyncio.to_thread(self.succeeded, job, message_id, time.monotonic() - started)

    # --- recording the outcome -----------------------------------------------------------------

    def _finish(
        self,
        session: Session,
        claim: Claim,
        status: str,
        error: str | None = None,
        next_at: dt.datetime | None = None,
        **values: Any,
    ) -> bool:
        fields: dict[str, Any] = {"status": status, "claimed_until": None, "last_error": error}
        if next_at is not None:
            fields["next_attempt_at"] = next_at
        won = session.execute(
            update(Outbox)
            .where(_fenced(claim))
            .values(**fields, **values)
            .execution_options(synchronize_session=False)
        ).rowcount
        if not won:
            log.warning("outbox=%s: lease lost before recording %s", claim.id, status)
        return bool(won)

    def succeeded(self, job: Job, message_id: str, seconds: float) -> None:
        now = utcnow()
        with session_scope(self.url) as session:
            self._finish(
                session,
                job.claim,
                "sent",
                sent_at=now,
                provider_message_id=message_id,
                recipient=job.recipient,
            )
        self.delivered += 1
        log.info(
            "delivered outbox=%s case=%s kind=%s channel=%s to=%s attempt=%s send_ms=%.0f "
            "since_enqueue_ms=%.0f message=%s%s",
            job.claim.id,
            job.case_id,
            job.kind,
            job.channel,
            _short(job.recipient),
            job.claim.fence,
            seconds * 1000,
            (now - job.created_at).total_seconds() * 1000,
            message_id,
            " (resent after interrupted attempt)" if job.claim.stale else "",
        )

    def failed(self, job: Job, exc: SendError) -> None:
        with session_scope(self.url) as session:
            if exc.retryable:
                self._retry(session, job, exc)
            else:
                self._give_up(session, job, exc)

    def _retry(self, session: Session, job: Job, exc: SendError) -> None:
        delay = backoff(job.claim.fence, exc.retry_after)
        extra = {"recipient": exc.new_recipient} if exc.new_recipient else {}
        if exc.new_recipient:  # a group became a supergroup: follow it for later alerts too
            session.execute(
                update(Worker)
                .where(Worker.telegram_chat_id == job.recipient)
                .values(telegram_chat_id=exc.new_recipient)
            )
        self._finish(session, job.claim, "pending", str(exc)[:500], utcnow() + delay, **extra)
        log.warning(
            "retry outbox=%s case=%s channel=%s attempt=%s in=%.1fs error=%s",
            job.claim.id,
            job.case_id,
            job.channel,
            job.claim.fence,
            delay.total_seconds(),
            exc,
        )

    def _give_up(self, session: Session, job: Job, exc: SendError) -> None:
        if not self._finish(session, job.claim, "failed", str(exc)[:500]):
            return
        record(
            session,
            "system",
            "alert_failed",
            "outbox",
            job.claim.id,
            {"case_id": job.case_id, "channel": job.channel, "error": str(exc)[:200]},
        )
        log.error(
            "failed outbox=%s case=%s channel=%s to=%s error=%s",
            job.claim.id,
            job.case_id,
            job.channel,
            _short(job.recipient),
            exc,
        )
        if job.channel == TELEGRAM:
            self._fall_through(session, job)

    def _fall_through(self, session: Session, job: Job) -> None:
        """This recipient will never get it: tell the next level now, do not wait for a deadline."""
        case = session.get(Case, job.case_id)
        nxt = next_level(int(job.payload.get("level", 0)))
        if case is None or nxt is None or job.kind == "watch":
            return
        case.escalation_level = max(case.escalation_level or 0, nxt)
        rows = enqueue_case_alert(session, case, kind="escalate", level=nxt)
        log.warning("fall-through case=%s to level=%s rows=%s", case.id, nxt, [r.id for r in rows])

    # --- re-notification -----------------------------------------------------------------------

    def renotify_due(self) -> int:
        """Unacknowledged past their deadline: re-notify the worker, then escalate."""
        now = utcnow()
        with session_scope(self.url) as session:
            due = session.execute(
                select(Case.id, Case.escalation_level)
                .where(Case.status == "open", Case.kind != "watch", Case.notify_due_at <= now)
                .order_by(Case.notify_due_at)
                .limit(BATCH)
            ).all()
        return sum(self._bump(case_id, level, now) for case_id, level in due)

    def _bump(self, case_id: int, level: int, now: dt.datetime) -> int:
        with session_scope(self.url) as session:
            case = session.get(Case, case_id)
            new_level = level + 1
            due = now + ack_deadline(case.severity) if new_level < MAX_LEVEL else None
            # Conditional on the level we read: two workers bump a case once.
            won = session.execute(
                update(Case)
                .where(Case.id == case_id, Case.status == "open", Case.escalation_level == level)
                .values(escalation_level=min(new_level, MAX_LEVEL), notify_due_at=due)
                .execution_options(synchronize_session=False)
            ).rowcount
            if not won or new_level > MAX_LEVEL:
                return 0
            session.refresh(case)
            kind = "renotify" if new_level == 1 else "escalate"
            enqueue_case_alert(session, case, kind=kind, level=new_level)
            log.info("%s case=%s level=%s next_due=%s", kind, case_id, new_level, due)
            return 1

    # --- the loop ------------------------------------------------------------------------------

    async def run_once(self) -> int:
        claims = await asyncio.to_thread(self.claim_due)
        await asyncio.gather(*(self.deliver(c) for c in claims))
        if time.monotonic() - self._last_scan >= renotify_scan_interval():
            self._last_scan = time.monotonic()
            await asyncio.to_thread(self.renotify_due)
        return len(claims)

    async def _sweep_loop(self, stop: asyncio.Event) -> None:
        """Second footing of the safety path: bot.escalation.sweep(url) re-reads stored user
        events and opens any case the tracker store failed to record (idempotent by event key).
        Runs beside delivery, never in its way; without Rasa installed there is no sweep."""
        sweep = await asyncio.to_thread(_sweep_function)
        if sweep is None:
            return
        last_error = ""
        while not stop.is_set():
            try:
                found = await asyncio.to_thread(sweep, self.url)
                last_error = ""
                if found:
                    log.warning("sweep recorded %s missed risk message(s)", found)
            except Exception as exc:  # noqa: BLE001 - keep sweeping; delivery is unaffected
                if str(exc) != last_error:  # e.g. no Rasa events table yet: say it once
                    log.exception("sweep failed; retrying every %.0fs", sweep_interval())
                last_error = str(exc)
            try:
                await asyncio.wait_for(stop.wait(), sweep_interval())
            except asyncio.TimeoutError:
                pass

    async def run(self, stop: asyncio.Event) -> None:
        log.info(
            "alert worker started (poll %.0f ms, lease %ss)",
            poll_interval() * 1000,
            claim_lease().total_seconds(),
        )
        sweeper: asyncio.Task | None = None
        while not stop.is_set():
            try:
                busy = await self.run_once()
            except Exception:  # noqa: BLE001 - a database hiccup must not end alerting
                log.exception("alert worker iteration failed; continuing")
                busy = 0
            if sweeper is None:  # after the first pass: after a restart, alerts go out first
                sweeper = asyncio.create_task(self._sweep_loop(stop))
            if not busy:
                try:
                    await asyncio.wait_for(stop.wait(), poll_interval())
                except asyncio.TimeoutError:
                    pass
        if sweeper is not None:
            await sweeper
        await self.close()
        log.info("alert worker stopped after %s deliveries", self.delivered)

    async def close(self) -> None:
        if self.telegram is not None:
            await self.telegram.close()
        await self.webhook.close()


def _sweep_function() -> Callable[[str | None], int] | None:
    try:
        module = importlib.import_module("bot.escalation")
    except Exception:  # noqa: BLE001 - e.g. Rasa missing: the tracker store path still works
        log.exception("bot.escalation unavailable: no sweep of stored events")
        return None
    return getattr(module, "sweep", None)


def _short(recipient: str | None) -> str:
    """Logs name the chat, not a webhook URL's secrets."""
    if recipient and recipient.startswith("http"):
        return recipient.split("?", 1)[0]
    return recipient or "-"
