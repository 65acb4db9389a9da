"""A guardian's worry about a child becomes a case for the child's social worker.

The case is written in the caller's transaction together with its alert (outbox), so a
report is never half-saved. A risk disclosure never gets here: the safety path answers it
first and closes the report form (bot/core/safety_policy.py).
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from typing import Any, Optional

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.alerts.outbox import enqueue_case_alert
from bot.alerts.routing import route_case
from bot.db import audit
from bot.db.models import Case, Person, Worker
from bot.guardian import links

logger = logging.getLogger(__name__)

URGENCIES = ("urgent", "soon", "later")
# Case severities are the safety ones (imminent|high|medium); "medium" is the calmest.
SEVERITY_BY_URGENCY = {"urgent": "high", "soon": "medium", "later": "medium"}
CATEGORY_CONCERN = "concern"
CATEGORY_SUPPORT = "guardian_support"  # the guardian asks for help for themself
SUPPORT_SUMMARY = (
    "监护人说照顾孩子压力很大，希望社工联系、给些支持。\n"
    "The guardian says caring is a heavy strain and would like the social worker's support."
)
URGENCY_LABELS = {"urgent": "很急 / urgent", "soon": "这几天 / soon", "later": "不急 / not urgent"}
# What the form's buttons send (domain utter_ask_concern_since / _urgency): 1, 2, 3.
URGENCY_CHOICES = {"1": "urgent", "2": "soon", "3": "later"}
SINCE_CHOICES = {"1": "今天 / today", "2": "这几天 / a few days", "3": "一个月以上 / over a month"}

# Checked in this order: "不太急" is soon, "不急" is later, anything else with "急" is urgent.
_URGENCY_PATTERNS = (
    ("soon", r"不太急|不是很急|没那么急|这几天|这两天|这周|几天内"
             r"|\bnot (so|very|that|too) urgent\b|\bsoon\b|\bthis week\b|\bfew days\b"),
    ("later", r"不急|不用急|不着急|不赶|慢慢|不紧急"
              r"|\bnot urgent\b|\bno (rush|hurry)\b|\bwhenever\b|\bnot in a hurry\b"),
    ("urgent", r"急|紧急|马上|立刻|现在|今天|危险"
               r"|\burgent\b|\basap\b|\bright (away|now)\b|\bnow\b|\btoday\b|\bemergency\b"),
)
_YES = r"^(是|对|好|行|可以|要|需要|能|嗯|恩|\bok\b|okay|yes|yeah|yep|sure|please)|可以打|能打|打吧"
_NO = r"^(不|别|没|\bno\b|nope|don't|do not)|不用|不要|别打|不方便"


# "Stop the report": every clause of the message is one of these (so "他说算了不去上学"
# is an answer, not a stop). "不用了" is not here: it answers "may the worker call you?".
_STOP_CLAUSE = re.compile(
    r"^(停|停下|停止|别问了|不问了|不说了|先不说了|不想说了|算了|算了吧|那算了|取消|不报了|不弄了"
    r"|结束|退出|stop|stop it|cancel|quit|never ?mind|forget it|no more questions"
    r"|i don'?t want to (talk|say|continue|do this)( about (it|this))?( any ?more)?)$",
    re.I,
)


def is_stop(text: Optional[str]) -> bool:
    clauses = []
    for part in re.split(r"[,，。.!！?？、;；~…]+", (text or "").strip().lower()):
        # Chinese voice input separates clauses with spaces; English words are not clauses
        pieces = part.split() if re.search(r"[\u4e00-\u9fff]", part) else [part]
        clauses += [" ".join(p.split()) for p in pieces if p.strip()]
    return bool(clauses) and all(_STOP_CLAUSE.match(c) for c in clauses)


def parse_urgency(text: Optional[str]) -> Optional[str]:
    value = (text or "").strip().lower()
    if value in URGENCIES:
        return value
    if value in URGENCY_CHOICES:
        return URGENCY_CHOICES[value]
    for urgency, pattern in _URGENCY_PATTERNS:
        if re.search(pattern, value):
            return urgency
    return None


def normalise_since(text: Optional[str]) -> Optional[str]:
    value = (text or "").strip()
    return SINCE_CHOICES.get(value, value[:200]) or None


def parse_yes_no(text: Optional[str]) -> Optional[bool]:
    value = (text or "").strip().lower()
    if not value:
        return None
    if re.search(_NO, value):
        return False
    if re.search(_YES, value):
        return True
    return None


@dataclass
class ConcernReport:
    sender_id: str
    what: str
    since: Optional[str] = None
    urgency: str = "soon"
    callback: Optional[bool] = None
    language: str = "zh"
    role: Optional[str] = None  # the reporter's role slot (guardian, child, or unknown)
    child_id: Optional[int] = None  # chosen in the form when several children are linked
    category: str = CATEGORY_CONCERN
    transcript: list[dict[str, Any]] = field(default_factory=list)


@dataclass(frozen=True)
class FiledConcern:
    case_id: int
    child_id: Optional[int]
    worker: Optional[links.WorkerContact]
    alerted: bool
    created: bool  # False: the same report was already filed (a retried action)


def support_request(sender_id: str, language: str, role: Optional[str] = None) -> ConcernReport:
    """The guardian's own strain, as a low-priority concern for their worker."""
    return ConcernReport(
        sender_id=sender_id,
        what=SUPPORT_SUMMARY,
        urgency="later",
        language=language,
        role=role or "guardian",
        category=CATEGORY_SUPPORT,
    )


def choose_child(session: Session, reporter: Person, child_id: Optional[int]) -> Optional[Person]:
    """The child the report is about: the one chosen, or the only one linked."""
    children = links.linked_children(session, reporter)
    if child_id is not None:
        return next((c for c in children if c.id == child_id), None)
    return children[0] if len(children) == 1 else None


def _alert(session: Session, case: Case) -> bool:
    """Queue the alert; a failure here must not lose the case itself (savepoint)."""
    try:
        with session.begin_nested():
            enqueue_case_alert(session, case, kind="alert")
    except Exception:  # noqa: BLE001 - keep the case; the console still lists it
        logger.exception("could not queue the alert for concern case %s", case.id)
        return False
    return True


def _evidence(report: ConcernReport) -> dict[str, Any]:
    # Plain JSON (not encrypted): labels only, never the guardian's words.
    items = [f"source: guardian {report.category} report"]
    items.append(f"urgency: {URGENCY_LABELS.get(report.urgency, report.urgency)}")
    if report.callback is not None:
        items.append("may call: " + ("是 / yes" if report.callback else "否 / no"))
    return {"evidence": items, "urgency": report.urgency, "callback": report.callback}


def _context(report: ConcernReport) -> list[dict[str, Any]]:
    if report.transcript:
        return report.transcript
    turns = [{"who": "user", "text": f"发生了什么 / What happened: {report.what}"}]
    if report.since:
        turns.append({"who": "user", "text": f"从什么时候 / Since when: {report.since}"})
    turns.append({"who": "user", "text": f"多急 / How urgent: {URGENCY_LABELS[report.urgency]}"})
    return turns


def _existing(session: Session, source_key: str) -> Optional[Case]:
    return session.execute(select(Case).where(Case.source_key == source_key)).scalar()


def file_concern(session: Session, report: ConcernReport, source_key: str) -> FiledConcern:
    """Write the concern case (once per source_key), route it, and queue its alert."""
    if report.urgency not in URGENCIES:
        raise ValueError(f"unknown urgency {report.urgency!r}")
    existing = _existing(session, source_key)
    if existing is not None:
        return _filed(session, existing, alerted=True, created=False)
    reporter = links.ensure_person(session, report.sender_id, report.role, report.language)
    child = choose_child(session, reporter, report.child_id)
    case = Case(
        kind="concern",
        sender_id=report.sender_id,
        person_id=reporter.id,
        child_id=child.id if child else None,
        category=report.category,
        severity=SEVERITY_BY_URGENCY[report.urgency],
        status="open",
        mandatory_report=False,
        source_key=source_key,
        summary=report.what[:4000],
        context=_context(report),
        evidence=_evidence(report),
    )
    session.add(case)
    session.flush()
    worker = route_case(session, case)
    case.worker_id = worker.id if worker else None
    alerted = _alert(session, case)
    audit.record(session, f"person:{reporter.id}", "guardian_concern_filed", "case", case.id,
                 {"category": report.category, "urgency": report.urgency})
    logger.info("concern case %s filed by %s (worker %s)", case.id, report.sender_id,
                case.worker_id)
    return _filed(session, case, alerted=alerted, created=True)


def _filed(session: Session, case: Case, *, alerted: bool, created: bool) -> FiledConcern:
    worker = session.get(Worker, case.worker_id) if case.worker_id else None
    contact = links.contact_of(worker) if worker is not None else None
    return FiledConcern(case.id, case.child_id, contact, alerted, created)
