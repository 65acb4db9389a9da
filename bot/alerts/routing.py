"""Who hears about a case: the child's worker, else on-call, else a supervisor, else an admin."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.db.models import Case, GuardianLink, Outbox, Person, Worker, WorkerAssignment

from .timing import MAX_LEVEL


def _active(worker: Worker | None) -> Worker | None:
    return worker if worker is not None and worker.active else None


def _person_for(session: Session, case: Case) -> Person | None:
    for person_id in (case.child_id, case.person_id):
        if person_id is not None:
            person = session.get(Person, person_id)
            if person is not None:
                return person
    return session.execute(
        select(Person).where(Person.sender_id == case.sender_id)
    ).scalar_one_or_none()


def _assigned_to(session: Session, person_id: int) -> Worker | None:
    assignment = session.execute(
        select(WorkerAssignment).where(WorkerAssignment.child_id == person_id)
    ).scalar_one_or_none()
    return _active(assignment.worker) if assignment else None


def assigned_worker(session: Session, case: Case) -> Worker | None:
    """The worker assigned to the child, or to the sender, or to a child the guardian raises."""
    if case.child_id is not None:
        worker = _assigned_to(session, case.child_id)
        if worker:
            return worker
    person = _person_for(session, case)
    if person is None:
        return None
    worker = _assigned_to(session, person.id)
    if worker:
        return worker
    # A grandparent writing about a grandchild: the grandchild's worker.
    child_ids = session.execute(
        select(GuardianLink.child_id).where(GuardianLink.guardian_id == person.id)
    ).scalars()
    for child_id in child_ids:
        worker = _assigned_to(session, child_id)
        if worker:
            return worker
    return None


def _first(session: Session, *conditions) -> Worker | None:  # type: ignore[no-untyped-def]
    # Prefer someone reachable on Telegram, then the oldest account (stable choice).
    return session.execute(
        select(Worker)
        .where(Worker.active.is_(True), *conditions)
        .order_by(Worker.telegram_chat_id.is_(None), Worker.id)
        .limit(1)
    ).scalar_one_or_none()


def fallback_worker(session: Session) -> Worker | None:
    return (
        _first(session, Worker.on_call.is_(True))
        or _first(session, Worker.role == "supervisor")
        or _first(session, Worker.role == "admin")
    )


def route_case(session: Session, case: Case) -> Worker | None:
    """The worker responsible for the case: as set on the case (e.g. reassigned), else routed."""
    if case.worker_id is not None:
        worker = _active(session.get(Worker, case.worker_id))
        if worker:
            return worker
    return assigned_worker(session, case) or fallback_worker(session)


def _supervisors_and_admins(session: Session, roles: tuple[str, ...]) -> list[Worker]:
    return list(
        session.execute(
            select(Worker)
            .where(Worker.active.is_(True), Worker.role.in_(roles))
            .order_by(Worker.role.desc(), Worker.id)  # supervisors before admins
        ).scalars()
    )


def supervisor_of(session: Session, worker: Worker | None) -> list[Worker]:
    """The worker's own supervisor, else every supervisor, else every admin (never the worker)."""
    exclude = {worker.id} if worker else set()
    if worker is not None and worker.supervisor_id is not None:
        boss = _active(session.get(Worker, worker.supervisor_id))
        if boss and boss.id not in exclude:
            return [boss]
    for roles in (("supervisor",), ("admin",)):
        found = [w for w in _supervisors_and_admins(session, roles) if w.id not in exclude]
        if found:
            return found
    return [worker] if worker else []


def recipients_for(session: Session, case: Case, level: int) -> list[Worker]:
    """Level 0 the worker, 1 the worker again, 2 their supervisor, 3+ every supervisor and admin."""
    worker = route_case(session, case)
    if level <= 1:
        return [worker] if worker else []
    if level == 2:
        return supervisor_of(session, worker)
    wide = _supervisors_and_admins(session, ("supervisor", "admin"))
    return wide or ([worker] if worker else [])


def next_level(level: int) -> int | None:
    """Where an undeliverable level falls through to (the worker again is pointless)."""
    nxt = 2 if level < 2 else level + 1
    return nxt if nxt <= MAX_LEVEL else None


def may_act_on(session: Session, worker: Worker, case: Case) -> bool:
    """The assigned worker, their supervisor, an admin, or anyone we alerted about the case."""
    if not worker.active:
        return False
    if worker.role == "admin":
        return True
    responsible = route_case(session, case)
    if responsible is not None and worker.id in (responsible.id, responsible.supervisor_id):
        return True
    alerted = session.execute(
        select(Outbox.id).where(Outbox.case_id == case.id, Outbox.worker_id == worker.id).limit(1)
    ).first()
    return alerted is not None
