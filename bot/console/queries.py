"""Read models for the console pages. Plain dataclasses, so templates never lazy-load."""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import case as sql_case
from sqlalchemy import func, select
from sqlalchemy.orm import Session, aliased
from sqlalchemy.sql import Select

from bot.console.access import Viewer, case_filter, child_filter
from bot.db.models import (
    CASE_KINDS,
    OPEN_STATUSES,
    Case,
    CaseEvent,
    CheckIn,
    ExerciseRun,
    GuardianLink,
    Person,
    Worker,
    WorkerAssignment,
    utcnow,
)

PER_PAGE = 50
MESSAGE_KINDS = ("message",)
CHART_DAYS = 180

SEVERITY_RANK = sql_case(
    (Case.severity == "imminent", 0), (Case.severity == "high", 1),
    (Case.severity == "medium", 2), else_=3,
)


@dataclass(frozen=True)
class QueueRow:
    id: int
    kind: str
    severity: str | None
    category: str | None
    status: str
    mandatory_report: bool
    created_at: dt.datetime
    notify_due_at: dt.datetime | None
    resolved_at: dt.datetime | None
    outcome: str | None
    person_id: int | None
    pseudonym: str | None
    village: str | None
    age_band: str | None
    worker: str | None


@dataclass
class QueuePage:
    kind: str
    status: str
    rows: list[QueueRow]
    total: int
    page: int
    pages: int
    fingerprint: str = ""
    latest_id: int = 0


def _visible(query: Select, viewer: Viewer) -> Select:
    condition = case_filter(viewer)
    return query if condition is None else query.where(condition)


def queue(session: Session, viewer: Viewer, kind: str, status: str, page: int,
          open_total: int | None = None, latest_id: int | None = None) -> QueuePage:
    """One page of a queue: open work by severity then waiting time, or recently resolved.

    `open_total`, `latest_id`: from open_stats(), when the caller has them (saves queries).
    """
    subject = aliased(Person)
    if status == "resolved":
        where = [Case.kind == kind, Case.status == "resolved"]
        order = (Case.resolved_at.desc(), Case.id.desc())
    else:
        where = [Case.kind == kind, Case.status.in_(OPEN_STATUSES)]
        order = (SEVERITY_RANK, Case.created_at, Case.id)
    condition = case_filter(viewer)
    if condition is not None:
        where.append(condition)
    total = open_total if status != "resolved" else None
    if total is None:
        total = session.execute(select(func.count(Case.id)).where(*where)).scalar() or 0
    pages = max(1, -(-total // PER_PAGE))
    page = min(max(1, page), pages)
    # Pick the page's ids from the index alone (ix_cases_kind_status holds kind, status,
    # severity, created_at): the rows themselves carry large encrypted messages, and
    # created_at sits after them, so sorting whole rows would read every case from disk.
    page_ids = select(Case.id).where(*where).order_by(*order).limit(PER_PAGE).offset(
        (page - 1) * PER_PAGE
    )
    query = (
        select(
            Case.id, Case.kind, Case.severity, Case.category, Case.status, Case.mandatory_report,
            Case.created_at, Case.notify_due_at, Case.resolved_at, Case.outcome,
            subject.id, subject.pseudonym, subject.village, subject.age_band, Worker.username,
        )
        .outerjoin(subject, subject.id == func.coalesce(Case.child_id, Case.person_id))
        .outerjoin(Worker, Worker.id == Case.worker_id)
        .where(Case.id.in_(page_ids))
        .order_by(*order)
    )
    rows = [QueueRow(*row) for row in session.execute(query)]
    if latest_id is None:
        latest_id = open_stats(session, viewer)[1][kind]
    result = QueuePage(kind, status, rows, total, page, pages, latest_id=latest_id)
    result.fingerprint = _fingerprint(result)
    return result


def _fingerprint(page: QueuePage) -> str:
    """Changes when what the page shows changes, including the minute (time-left column)."""
    minute = utcnow().strftime("%Y%m%d%H%M")
    parts = [minute, str(page.total), str(page.page)]
    parts += [f"{r.id}:{r.status}:{r.severity}:{r.worker}:{r.notify_due_at}" for r in page.rows]
    return hashlib.sha256("|".join(parts).encode()).hexdigest()[:20]


def open_stats(session: Session, viewer: Viewer) -> tuple[dict[str, int], dict[str, int]]:
    """Per kind, the number of visible open cases and the newest one's id (the watermark the
    live queue polls from: anything visible, open and newer is "new")."""
    query = _visible(
        select(Case.kind, func.count(), func.max(Case.id))
        # kind IN (…) too, so SQLite counts from ix_cases_kind_status alone.
        .where(Case.kind.in_(CASE_KINDS), Case.status.in_(OPEN_STATUSES))
        .group_by(Case.kind),
        viewer,
    )
    counts, latest = dict.fromkeys(CASE_KINDS, 0), dict.fromkeys(CASE_KINDS, 0)
    for kind, n, newest in session.execute(query):
        counts[kind], latest[kind] = n, newest or 0
    return counts, latest


def open_counts(session: Session, viewer: Viewer) -> dict[str, int]:
    return open_stats(session, viewer)[0]


def new_cases_since(session: Session, viewer: Viewer, kind: str,
                    since: int) -> list[dict[str, Any]]:
    """Open cases created after the id the page last saw (for the "new case" banner)."""
    query = _visible(
        select(Case.id, Case.severity, Case.category)
        .where(Case.kind == kind, Case.id > since, Case.status.in_(OPEN_STATUSES))
        .order_by(Case.id)
        .limit(20),
        viewer,
    )
    return [{"id": i, "severity": s, "category": c} for i, s, c in session.execute(query)]


# --- one case -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Turn:
    who: str  # child | guardian | bot | person
    text: str
    at: dt.datetime | None = None


@dataclass
class EventView:
    kind: str
    text: str | None
    data: dict[str, Any]
    worker: str | None
    at: dt.datetime


@dataclass
class CaseView:
    case: Case
    subject: Person | None
    reporter: Person | None
    guardians: list[tuple[Person, str | None]] = field(default_factory=list)
    worker: str | None = None
    acknowledged_by: str | None = None
    conversation: list[Turn] = field(default_factory=list)
    evidence: list[str] = field(default_factory=list)
    events: list[EventView] = field(default_factory=list)
    subject_visible: bool = False
    names: dict[int, str] = field(default_factory=dict)  # worker id → username
    from_context: bool = False  # escalated by signals accumulated over several turns


_BOT = {"bot", "assistant", "action", "peiban"}
_PERSON = {"user", "child", "guardian", "person", "sender"}


def _turn_from(item: Any, default_who: str) -> Turn | None:
    if isinstance(item, str):
        return Turn(default_who, item) if item.strip() else None
    if not isinstance(item, dict):
        return None
    text = next(
        (item[k] for k in ("text", "message", "content") if isinstance(item.get(k), str)), None
    )
    if not text:
        return None
    raw_who = str(next((item[k] for k in ("role", "speaker", "sender", "event", "who", "by")
                        if item.get(k)), "")).lower()
    if raw_who in _BOT:
        who = "bot"
    else:
        who = raw_who if raw_who in ("child", "guardian") else default_who
    return Turn(who, text, _parse_time(next((item[k] for k in ("time", "timestamp", "at")
                                             if item.get(k) is not None), None)))


def _parse_time(value: Any) -> dt.datetime | None:
    try:
        if isinstance(value, (int, float)):
            return dt.datetime.utcfromtimestamp(float(value))
        if isinstance(value, str):
            parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
            if parsed.tzinfo is not None:
                parsed = parsed.astimezone(dt.timezone.utc).replace(tzinfo=None)
            return parsed
    except (ValueError, OverflowError, OSError):
        return None
    return None


def conversation(case: Case, events: list[CaseEvent], default_who: str) -> list[Turn]:
    """The turns around the disclosure (Case.context) then later messages appended to it.

    The context format belongs to the tracker store; accept a list of turns (dicts or
    strings) or a dict holding one under "turns"/"messages"/"events".
    """
    context = case.context
    if isinstance(context, dict):
        context = next((context[k] for k in ("turns", "messages", "events")
                        if isinstance(context.get(k), list)), [])
    turns = [t for t in (_turn_from(i, default_who) for i in (context or [])) if t]
    for event in events:
        if event.kind in MESSAGE_KINDS and event.text:
            data = event.data if isinstance(event.data, dict) else {}
            who = str(data.get("role") or data.get("who") or default_who)
            turns.append(Turn("bot" if who in _BOT else who, event.text, event.created_at))
    return turns


def evidence_items(evidence: Any) -> list[str]:
    """Detector evidence as short strings: a list, the CLI dict, or signals."""
    if evidence is None:
        return []
    if isinstance(evidence, dict):
        items = list(evidence.get("evidence") or [])
        nested = evidence.get("risk") if isinstance(evidence.get("risk"), dict) else {}
        for signal in evidence.get("signals") or nested.get("signals") or []:
            if isinstance(signal, dict):
                bits = [str(signal.get(k)) for k in ("source", "category", "severity", "score")
                        if signal.get(k) is not None]
                ev = signal.get("evidence")
                if ev:
                    bits.append(", ".join(map(str, ev)) if isinstance(ev, list) else str(ev))
                items.append(" · ".join(bits))
        if not items:
            items = [f"{k}: {v}" for k, v in evidence.items() if k != "from_context"]
        return [str(i) for i in items][:50]
    if isinstance(evidence, list):
        return [str(i) for i in evidence][:50]
    return [str(evidence)]


def case_view(session: Session, viewer: Viewer, case: Case) -> CaseView:
    names = dict(session.execute(select(Worker.id, Worker.username)).all())
    subject_id = case.child_id or case.person_id
    subject = session.get(Person, subject_id) if subject_id else None
    reporter = session.get(Person, case.person_id) if case.person_id else None
    if subject is None:
        subject = session.execute(select(Person).where(Person.sender_id == case.sender_id)).scalar()
    if reporter is not None and subject is not None and reporter.id == subject.id:
        reporter = None
    events = list(session.execute(
        select(CaseEvent).where(CaseEvent.case_id == case.id).order_by(CaseEvent.id)
    ).scalars())
    view = CaseView(case, subject, reporter, names=names)
    view.worker = names.get(case.worker_id)
    view.acknowledged_by = names.get(case.acknowledged_by)
    if subject is not None:
        view.guardians = _guardians(session, subject.id)
        # child_filter admits anyone a visible case is about (its child_id or sender), and
        # this case is visible: no need to ask the database again.
        view.subject_visible = subject.id == case.child_id or subject.sender_id == case.sender_id
    default_who = reporter.role if reporter is not None else (subject.role if subject else "person")
    if case.status != "resolved":  # privacy: no transcript outside an open case
        view.conversation = conversation(case, events, default_who)
    view.evidence = evidence_items(case.evidence)
    view.from_context = isinstance(case.evidence, dict) and bool(case.evidence.get("from_context"))
    view.events = [
        EventView(e.kind, e.text, e.data if isinstance(e.data, dict) else {},
                  names.get(e.worker_id), e.created_at)
        for e in events if e.kind not in MESSAGE_KINDS
    ]
    return view


def _guardians(session: Session, child_id: int) -> list[tuple[Person, str | None]]:
    rows = session.execute(
        select(Person, GuardianLink.relation)
        .join(GuardianLink, GuardianLink.guardian_id == Person.id)
        .where(GuardianLink.child_id == child_id)
        .order_by(GuardianLink.id)
    ).all()
    return [(person, relation) for person, relation in rows]


# --- children -----------------------------------------------------------------------------


@dataclass(frozen=True)
class ChildRow:
    id: int
    pseudonym: str | None
    role: str
    age_band: str | None
    village: str | None
    worker: str | None
    last_seen_at: dt.datetime | None
    open_cases: int


def children(session: Session, viewer: Viewer, page: int) -> tuple[list[ChildRow], int, int]:
    open_cases = (
        select(func.count(Case.id))
        .where(Case.child_id == Person.id, Case.status.in_(OPEN_STATUSES))
        .scalar_subquery()
    )
    query = (
        select(Person.id, Person.pseudonym, Person.role, Person.age_band, Person.village,
               Worker.username, Person.last_seen_at, open_cases)
        .outerjoin(WorkerAssignment, WorkerAssignment.child_id == Person.id)
        .outerjoin(Worker, Worker.id == WorkerAssignment.worker_id)
        .where(Person.role != "guardian")
    )
    condition = child_filter(viewer)
    if condition is not None:
        query = query.where(condition)
    total = session.execute(select(func.count()).select_from(query.subquery())).scalar() or 0
    pages = max(1, -(-total // PER_PAGE))
    page = min(max(1, page), pages)
    rows = session.execute(
        query.order_by(Person.pseudonym, Person.id).limit(PER_PAGE).offset((page - 1) * PER_PAGE)
    )
    return [ChildRow(*row) for row in rows], page, pages


@dataclass
class ChildView:
    person: Person
    worker: str | None
    guardians: list[tuple[Person, str | None]]
    checkins: list[tuple[dt.datetime, int]]
    exercises: list[ExerciseRun]
    concerns: list[QueueRow]
    cases: list[QueueRow]


def child_view(session: Session, viewer: Viewer, person: Person) -> ChildView:
    since = utcnow() - dt.timedelta(days=CHART_DAYS)
    checkins = [
        (at, score) for at, score in session.execute(
            select(CheckIn.created_at, CheckIn.score)
            .where(CheckIn.person_id == person.id, CheckIn.created_at >= since)
            .order_by(CheckIn.created_at)
            .limit(1000)
        )
    ]
    exercises = list(session.execute(
        select(ExerciseRun).where(ExerciseRun.person_id == person.id)
        .order_by(ExerciseRun.started_at.desc()).limit(50)
    ).scalars())
    worker = session.execute(
        select(Worker.username).join(WorkerAssignment, WorkerAssignment.worker_id == Worker.id)
        .where(WorkerAssignment.child_id == person.id)
    ).scalar()
    history = _cases_about(session, viewer, person)
    return ChildView(
        person=person, worker=worker, guardians=_guardians(session, person.id),
        checkins=checkins, exercises=exercises,
        concerns=[r for r in history if r.kind == "concern"],
        cases=[r for r in history if r.kind != "concern"],
    )


def _cases_about(session: Session, viewer: Viewer, person: Person) -> list[QueueRow]:
    """Every visible case about this person: metadata only, never the messages."""
    query = _visible(
        select(
            Case.id, Case.kind, Case.severity, Case.category, Case.status, Case.mandatory_report,
            Case.created_at, Case.notify_due_at, Case.resolved_at, Case.outcome,
        ).where((Case.child_id == person.id) | (Case.sender_id == person.sender_id)),
        viewer,
    ).order_by(Case.created_at.desc()).limit(200)
    return [
        QueueRow(*row, person.id, person.pseudonym, person.village, person.age_band, None)
        for row in session.execute(query)
    ]
