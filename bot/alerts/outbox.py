"""Write alerts into the outbox, in the caller's transaction, exactly once per dedupe key.

Rows hold no child text: the alert is rendered from the (encrypted) case at send time, so
the outbox never stores a child's words in the clear.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import html
import logging
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, object_session

from bot.config import settings
from bot.db.models import Case, CaseEvent, Outbox, Person, Worker, utcnow

from . import texts
from .routing import next_level, recipients_for, route_case
from .timing import ack_deadline

log = logging.getLogger(__name__)

TELEGRAM = "telegram"
WEBHOOK = "webhook"
UNROUTED = "unrouted"  # recipient part of the key while nobody has linked Telegram
# upgrade: the tracker store raised the severity of an open case (bot/escalation.py)
KINDS = ("alert", "upgrade", "renotify", "escalate", "watch")
ONCE_PER_CASE = ("alert", "watch")  # other kinds may recur after an upgrade: key on severity
MESSAGE_LIMIT = 600  # characters of the child's message quoted in an alert
BEIJING = dt.timedelta(hours=8)


def dedupe_key(case_id: int, kind: str, level: int, channel: str, recipient: str) -> str:
    return f"case:{case_id}:{kind}:{level}:{channel}:{recipient}"


def _kind_token(case: Case, kind: str) -> str:
    # Severity only rises, so "renotify@imminent" after an upgrade is not the earlier
    # "renotify@high": the reminder of the new episode phase is not swallowed as a duplicate.
    return kind if kind in ONCE_PER_CASE else f"{kind}@{case.severity or 'none'}"


def _url_tag(url: str) -> str:
    return hashlib.sha256(url.encode()).hexdigest()[:12]  # keys stay short whatever the URL


def _insert_once(session: Session, values: dict[str, Any]) -> Outbox:
    """INSERT … ON CONFLICT DO NOTHING: a duplicate never raises inside the caller's transaction."""
    session.flush()
    dialect = session.get_bind().dialect.name
    if dialect in ("sqlite", "postgresql"):
        insert = sqlite.insert if dialect == "sqlite" else postgresql.insert
        stmt = insert(Outbox).values(**values).on_conflict_do_nothing(index_elements=["dedupe_key"])
        session.execute(stmt)
    else:
        _insert_savepoint(session, values)
    key = values["dedupe_key"]
    return session.execute(select(Outbox).where(Outbox.dedupe_key == key)).scalar_one()


def _insert_savepoint(session: Session, values: dict[str, Any]) -> None:
    exists = session.execute(select(Outbox.id).where(Outbox.dedupe_key == values["dedupe_key"]))
    if exists.first():
        return
    try:
        with session.begin_nested():
            session.add(Outbox(**values))
    except IntegrityError:
        pass  # a concurrent writer got there first: that row is ours too


def _row_values(
    case: Case, kind: str, level: int, channel: str, recipient: str | None, worker_id: int | None
) -> dict[str, Any]:
    tag = recipient if channel == TELEGRAM else _url_tag(recipient or "")
    return {
        "case_id": case.id,
        "channel": channel,
        "recipient": recipient,
        "worker_id": worker_id,
        "kind": kind,
        "payload": {"case_id": case.id, "kind": kind, "level": level, "lang": "zh"},
        "dedupe_key": dedupe_key(case.id, _kind_token(case, kind), level, channel, tag or UNROUTED),
        "status": "pending",
        "attempts": 0,
        "next_attempt_at": utcnow(),
        "created_at": utcnow(),
    }


def _telegram_rows(session: Session, case: Case, kind: str, level: int) -> list[Outbox]:
    recipients = recipients_for(session, case, level)
    reachable = [w for w in recipients if w.telegram_chat_id]
    if reachable:
        return [
            _insert_once(
                session, _row_values(case, kind, level, TELEGRAM, w.telegram_chat_id, w.id)
            )
            for w in reachable
        ]
    # Nobody at this level has linked Telegram: keep a row that is delivered once someone does…
    first = recipients[0].id if recipients else None
    rows = [_insert_once(session, _row_values(case, kind, level, TELEGRAM, None, first))]
    log.warning("case %s: no Telegram chat at level %s; waiting for a link", case.id, level)
    # …and tell the next level now: a risk must reach some human today, not after a link.
    nxt = next_level(level)
    if nxt is not None and kind != "watch":
        case.escalation_level = max(case.escalation_level or 0, nxt)
        rows += _telegram_rows(session, case, "escalate", nxt)
    return rows


def _webhook_row(session: Session, case: Case, kind: str, level: int) -> Outbox | None:
    url = settings().escalation_webhook_url
    if not url:
        return None
    return _insert_once(session, _row_values(case, kind, level, WEBHOOK, url, None))


def enqueue_case_alert(
    session: Session, case: Case, kind: str = "alert", level: int = 0
) -> list[Outbox]:
    """Outbox rows for a case alert, in the caller's transaction; calling it twice adds nothing.

    Also fixes the case's responsible worker and its acknowledgement deadline on the first alert.
    """
    if kind not in KINDS:
        raise ValueError(f"unknown alert kind {kind!r}")
    session.flush()  # the case needs its id for the keys
    if case.worker_id is None:
        worker = route_case(session, case)
        case.worker_id = worker.id if worker else None
    if kind == "alert" and case.notify_due_at is None and case.status == "open":
        case.notify_due_at = utcnow() + ack_deadline(case.severity)
    rows = _telegram_rows(session, case, kind, level)
    webhook = _webhook_row(session, case, kind, level)
    if webhook is not None:
        rows.append(webhook)
    session.flush()
    return rows


def enqueue_watch_note(session: Session, child_person: Person, reason: str) -> Case:
    """One open watch case per child, announced by a single, silent Telegram notice."""
    open_watch = session.execute(
        select(Case)
        .where(
            Case.kind == "watch",
            Case.child_id == child_person.id,
            Case.status != "resolved",
        )
        .order_by(Case.id)
        .limit(1)
    ).scalar_one_or_none()
    if open_watch is not None:
        session.add(CaseEvent(case_id=open_watch.id, kind="watch", text=reason))
        session.flush()
        return open_watch
    case = Case(
        kind="watch",
        sender_id=child_person.sender_id,
        person_id=child_person.id,
        child_id=child_person.id,
        severity=None,
        status="open",
        summary=reason,
    )
    session.add(case)
    session.flush()
    session.add(CaseEvent(case_id=case.id, kind="watch", text=reason))
    worker = route_case(session, case)
    case.worker_id = worker.id if worker else None
    _telegram_rows(session, case, "watch", 0)
    session.flush()
    return case


# --- the alert text ---------------------------------------------------------------------


def _beijing(moment: dt.datetime | None) -> str:
    if moment is None:
        return "—"
    return (moment + BEIJING).strftime("%Y-%m-%d %H:%M") + " 北京时间 (UTC+8)"


def case_url(case_id: int) -> str:
    return f"{settings().console_url.rstrip('/')}/cases/{case_id}"


def _person(case: Case) -> Person | None:
    session = object_session(case)
    if session is None:
        return None
    for person_id in (case.child_id, case.person_id):
        if person_id is not None:
            person = session.get(Person, person_id)
            if person is not None:
                return person
    return session.execute(
        select(Person).where(Person.sender_id == case.sender_id)
    ).scalar_one_or_none()


def _reporter(case: Case) -> Person | None:
    session = object_session(case)
    if session is None or case.person_id is None:
        return None
    return session.get(Person, case.person_id)


def _worker_name(case: Case) -> str | None:
    session = object_session(case)
    if session is None or case.worker_id is None:
        return None
    worker = session.get(Worker, case.worker_id)
    return (worker.display_name or worker.username) if worker else None


def _child_fields(person: Person | None) -> dict[str, str | None]:
    if person is None:
        return {"pseudonym": None, "age_band": None, "village": None}
    return {"pseudonym": person.pseudonym, "age_band": person.age_band, "village": person.village}


def _child_line(child: dict[str, str | None]) -> str:
    parts = [
        child["pseudonym"] or "（未命名 / unnamed）",
        f"{child['age_band']} 岁 / years" if child["age_band"] else None,
        child["village"],
    ]
    return " · ".join(html.escape(p) for p in parts if p)


def _header(case: Case, kind: str, lang: str) -> str:
    pair = (
        texts.CONCERN_HEADER if case.kind == "concern" and kind == "alert" else texts.HEADERS[kind]
    )
    return f"<b>{html.escape(texts.bilingual(pair, lang))}</b> · #{case.id}"


def _quote(message: str | None) -> str:
    text = (message or "").strip()
    if len(text) > MESSAGE_LIMIT:
        text = text[:MESSAGE_LIMIT] + "…"
    return html.escape(text) or "—"


def _text_lines(case: Case, kind: str, lang: str, child: dict[str, str | None]) -> list[str]:
    lines = [_header(case, kind, lang)]
    if kind == "escalate":
        lines.append(f"负责社工 / Assigned worker: {html.escape(_worker_name(case) or '—')}")
    if case.kind != "watch":
        lines.append(
            f"类别 / Category: {html.escape(texts.label(texts.CATEGORY_LABELS, case.category))}"
        )
        lines.append(
            f"严重程度 / Severity: {html.escape(texts.label(texts.SEVERITY_LABELS, case.severity))}"
        )
    lines.append(f"孩子 / Child: {_child_line(child)}")
    reporter = _reporter(case)
    if reporter is not None and reporter.role == "guardian":
        lines.append("来源 / Reported by: 监护人 / guardian")
    label = "原因 / Reason" if case.kind == "watch" else "消息 / Message"
    lines.append(f"{label}: 「{_quote(case.summary)}」")
    lines.append(f"时间 / Time: {_beijing(case.created_at)}")
    if case.mandatory_report:
        lines.append(f"⚖️ <b>{html.escape(texts.bilingual(texts.MANDATORY, lang))}</b>")
    if case.notify_due_at is not None and case.status == "open":
        lines.append(f"⏰ 请在此前确认接手 / Acknowledge by: {_beijing(case.notify_due_at)}")
    lines.append(f"打开个案 / Open case: {html.escape(case_url(case.id))}")
    return lines


def _iso(moment: dt.datetime | None) -> str | None:
    return None if moment is None else moment.replace(microsecond=0).isoformat() + "Z"


def build_alert_payload(
    case: Case, lang: str = "zh", kind: str = "alert", level: int = 0
) -> dict[str, Any]:
    """The alert: `text` (Telegram HTML, zh then en) plus the same facts as JSON fields."""
    child = _child_fields(_person(case))
    return {
        "event": kind,
        "level": level,
        "case_id": case.id,
        "case_kind": case.kind,
        "category": case.category,
        "severity": case.severity,
        "status": case.status,
        "mandatory_report": bool(case.mandatory_report),
        "child": child,
        "message": case.summary,
        "created_at": _iso(case.created_at),
        "ack_due_at": _iso(case.notify_due_at),
        "url": case_url(case.id),
        "text": "\n".join(_text_lines(case, kind, lang, child)),
    }


def is_public_url(url: str) -> bool:
    """Whether Telegram will accept the URL in a button (it rejects localhost addresses)."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    if parts.scheme not in ("http", "https") or not host:
        return False
    loopback = host in ("localhost", "0.0.0.0", "::1") or host.startswith("127.")
    return not loopback  # anything else that Telegram refuses is retried without the button
