"""Who may see what. A worker: their own children and cases; a supervisor: also their team's
(workers whose supervisor_id is them); an admin: everything. Anything else is a 404, so a
guessed id cannot tell "exists but not yours" from "does not exist".

The responsible worker mirrors bot.alerts.routing: the case's worker_id once set (the alert
worker fixes it on the first alert; reassigning changes it), else the worker assigned to the
child, the sender, or a child the sending guardian looks after. Anyone who was alerted about
a case (an outbox row for them: on-call, escalation to a supervisor) may open it too, and an
on-call worker sees cases nobody is responsible for yet, so no case is invisible to all but
admins.
"""

from __future__ import annotations

from dataclasses import dataclass

from aiohttp import web
from sqlalchemy import or_, select, union_all
from sqlalchemy.orm import Session
from sqlalchemy.sql import Select
from sqlalchemy.sql.elements import ColumnElement

from bot.db.models import Case, GuardianLink, Outbox, Person, Worker, WorkerAssignment

MAX_ID = 2**63 - 1


@dataclass(frozen=True)
class Viewer:
    id: int
    username: str
    role: str
    on_call: bool
    team: frozenset[int]  # the viewer and everyone they supervise

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"

    @property
    def actor(self) -> str:
        return f"worker:{self.id}"


def viewer_for(session: Session, worker: Worker) -> Viewer:
    team = {worker.id}
    team.update(session.execute(
        select(Worker.id).where(Worker.supervisor_id == worker.id)
    ).scalars())
    return Viewer(worker.id, worker.username, worker.role, bool(worker.on_call), frozenset(team))


def _assigned_children(viewer: Viewer) -> Select:
    return select(WorkerAssignment.child_id).where(WorkerAssignment.worker_id.in_(viewer.team))


def case_filter(viewer: Viewer) -> ColumnElement[bool] | None:
    """A WHERE clause on Case for what the viewer may see (None: everything).

    One `id IN (UNION ALL …)` rather than an OR per row: each branch is an index lookup
    (ix_cases_worker_status, ix_outbox_worker_case), so a worker's queue never reads the
    other 10,000 cases' rows, which carry their encrypted messages.
    """
    if viewer.is_admin:
        return None
    children = _assigned_children(viewer)
    child_senders = select(Person.sender_id).where(Person.id.in_(children))
    guardians = select(GuardianLink.guardian_id).where(GuardianLink.child_id.in_(children))
    guardian_senders = select(Person.sender_id).where(Person.id.in_(guardians))
    unrouted = Case.worker_id.is_(None)
    branches = [
        select(Case.id).where(Case.worker_id.in_(viewer.team)),
        select(Case.id).where(unrouted, Case.child_id.in_(children)),
        select(Case.id).where(unrouted, Case.sender_id.in_(child_senders)),
        select(Case.id).where(unrouted, Case.sender_id.in_(guardian_senders)),
        select(Outbox.case_id).where(Outbox.worker_id.in_(viewer.team)),
    ]
    if viewer.on_call:
        branches.append(select(Case.id).where(unrouted))
    return Case.id.in_(union_all(*branches))  # IN ignores duplicates: no need to sort them away


def child_filter(viewer: Viewer) -> ColumnElement[bool] | None:
    """A WHERE clause on Person: the viewer's team's children, and anyone in a visible case."""
    if viewer.is_admin:
        return None
    cases = case_filter(viewer)
    case_children = select(Case.child_id).where(cases, Case.child_id.isnot(None))
    case_senders = select(Case.sender_id).where(cases)
    return or_(
        Person.id.in_(_assigned_children(viewer)),
        Person.id.in_(case_children),
        Person.sender_id.in_(case_senders),
    )


def parse_id(raw: str) -> int:
    """Path ids: plain decimal digits that fit in a 64-bit integer, else 404."""
    if not raw.isdigit() or not raw.isascii() or len(raw) > 19:
        raise web.HTTPNotFound()
    value = int(raw)
    if value < 1 or value > MAX_ID:
        raise web.HTTPNotFound()
    return value


def load_case(session: Session, viewer: Viewer, case_id: int) -> Case:
    query = select(Case).where(Case.id == case_id)
    condition = case_filter(viewer)
    if condition is not None:
        query = query.where(condition)
    case = session.execute(query).scalar()
    if case is None:
        raise web.HTTPNotFound()
    return case


def load_child(session: Session, viewer: Viewer, person_id: int) -> Person:
    query = select(Person).where(Person.id == person_id)
    condition = child_filter(viewer)
    if condition is not None:
        query = query.where(condition)
    person = session.execute(query).scalar()
    if person is None:
        raise web.HTTPNotFound()
    return person


def can_see_child(session: Session, viewer: Viewer, person_id: int | None) -> bool:
    if person_id is None:
        return False
    try:
        load_child(session, viewer, person_id)
    except web.HTTPNotFound:
        return False
    return True


def reassign_targets(session: Session, viewer: Viewer, me: Worker) -> list[Worker]:
    """Admins: anyone active. Supervisors: their team. Workers: their supervisor and teammates."""
    query = select(Worker).where(Worker.active.is_(True)).order_by(Worker.username)
    if viewer.is_admin:
        return list(session.execute(query).scalars())
    allowed = set(viewer.team)
    if me.supervisor_id is not None:
        allowed.add(me.supervisor_id)
        allowed.update(session.execute(
            select(Worker.id).where(Worker.supervisor_id == me.supervisor_id)
        ).scalars())
    return list(session.execute(query.where(Worker.id.in_(allowed))).scalars())
