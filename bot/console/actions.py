"""State changes on a case. Each one is a CaseEvent (the case's own history, shown on the
page) plus an audit row (the tamper-evident access log); both commit with the change.

Audit details hold no free text: the audit log is not encrypted, notes are.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass

from sqlalchemy.orm import Session

from bot.alerts.outbox import enqueue_case_alert
from bot.alerts.timing import ack_deadline
from bot.console.access import Viewer
from bot.db import audit
from bot.db.models import Case, CaseEvent, Worker, utcnow

log = logging.getLogger(__name__)

CONTACT_WITH = ("child", "guardian", "parent", "school", "police", "medical", "other")
CONTACT_HOW = ("phone", "in_person", "video", "message")
OUTCOMES = (
    "safe_no_further_action", "referred_police", "referred_medical", "referred_services",
    "ongoing_support", "false_alarm", "other",
)

class ActionRefused(Exception):
    """The action does not apply to the case as it is now (e.g. resolving twice)."""

    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


@dataclass(frozen=True)
class Contact:
    with_whom: str
    how: str
    text: str


def _event(session: Session, case: Case, viewer: Viewer, kind: str, text: str | None = None,
           data: dict | None = None) -> CaseEvent:
    event = CaseEvent(case_id=case.id, kind=kind, text=text, data=data, worker_id=viewer.id)
    session.add(event)
    session.flush()
    return event


def _audit(session: Session, viewer: Viewer, action: str, case: Case,
           detail: dict | None = None) -> None:
    detail = {"via": "console", **(detail or {})}
    audit.record(session, viewer.actor, action, "case", case.id, detail)


def _require_open(case: Case) -> None:
    if case.status == "resolved":
        raise ActionRefused("error_case_resolved")


def acknowledge(session: Session, viewer: Viewer, case: Case) -> Case:
    """bot.alerts.ack.acknowledge_case: Telegram and console share one state change (it writes
    the CaseEvent and the audit row, cancels pending reminders, and is idempotent)."""
    from bot.alerts.ack import acknowledge_case  # lazy: the console starts without alerts deps

    _require_open(case)
    try:
        return acknowledge_case(session, case.id, viewer.id, "console")
    except PermissionError as exc:
        raise ActionRefused("error_not_allowed") from exc
    except LookupError as exc:
        log.warning("acknowledge_case refused case %s: %s", case.id, exc)
        raise ActionRefused("error_case_changed") from exc


def add_note(session: Session, viewer: Viewer, case: Case, text: str) -> None:
    _event(session, case, viewer, "note", text=text)
    _audit(session, viewer, "note_case", case)


def record_contact(session: Session, viewer: Viewer, case: Case, contact: Contact) -> None:
    _require_open(case)
    _event(session, case, viewer, "contact", text=contact.text or None,
           data={"with": contact.with_whom, "how": contact.how})
    _audit(session, viewer, "contact_case", case, {"with": contact.with_whom, "how": contact.how})


def record_visit(session: Session, viewer: Viewer, case: Case, day: dt.date, text: str) -> None:
    _require_open(case)
    _event(session, case, viewer, "visit", text=text, data={"date": day.isoformat()})
    _audit(session, viewer, "visit_case", case, {"date": day.isoformat()})


def change_severity(session: Session, viewer: Viewer, case: Case, severity: str,
                    reason: str) -> None:
    _require_open(case)
    old = case.severity
    if old == severity:
        raise ActionRefused("error_same_severity")
    case.severity = severity
    if case.status == "open":
        # Raising the severity of an unacknowledged case must bring re-notification forward.
        due = utcnow() + ack_deadline(severity)
        if case.notify_due_at is None or due < case.notify_due_at:
            case.notify_due_at = due
    _event(session, case, viewer, "severity", text=reason, data={"from": old, "to": severity})
    _audit(session, viewer, "severity_case", case, {"from": old, "to": severity})


def reassign(session: Session, viewer: Viewer, case: Case, target: Worker, reason: str) -> None:
    _require_open(case)
    if case.worker_id == target.id:
        raise ActionRefused("error_same_worker")
    old = case.worker_id
    case.worker_id = target.id
    _event(session, case, viewer, "reassign", text=reason or None,
           data={"from": old, "to": target.id})
    _audit(session, viewer, "reassign_case", case, {"from": old, "to": target.id})
    _alert_new_worker(session, case)


def _alert_new_worker(session: Session, case: Case) -> None:
    """Tell the new worker on Telegram through the outbox (deduplicated per recipient)."""
    if case.kind == "risk":
        enqueue_case_alert(session, case, "alert", 0)


def resolve(session: Session, viewer: Viewer, case: Case, outcome: str, text: str,
            police_reported: bool) -> None:
    _require_open(case)
    case.status = "resolved"
    case.resolved_at = utcnow()
    case.outcome = outcome
    data = {"outcome": outcome}
    if case.mandatory_report:
        data["police_reported"] = police_reported
    _event(session, case, viewer, "resolve", text=text, data=data)
    _audit(session, viewer, "resolve_case", case, data)
