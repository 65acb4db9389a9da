"""Routing: the child's worker, else on-call, else a supervisor, else an admin."""

from __future__ import annotations

from bot.alerts.routing import may_act_on, recipients_for, route_case
from bot.db.models import GuardianLink
from bot.db.session import session_scope

from . import factories as f


def test_assigned_worker_by_child_id(db_url: str) -> None:
    with session_scope(db_url) as s:
        boss, social, kid = f.team(s)
        assert route_case(s, f.case(s, kid)) is social


def test_assigned_worker_by_sender_when_case_has_no_child(db_url: str) -> None:
    with session_scope(db_url) as s:
        boss, social, kid = f.team(s)
        case = f.case(s, None, sender_id=kid.sender_id)
        assert route_case(s, case) is social


def test_guardian_reaches_the_grandchilds_worker(db_url: str) -> None:
    with session_scope(db_url) as s:
        boss, social, kid = f.team(s)
        grandma = f.child(s, "tg:2002", role="guardian", pseudonym="奶奶")
        s.add(GuardianLink(guardian_id=grandma.id, child_id=kid.id))
        case = f.case(s, grandma, with_child=False)
        assert route_case(s, case) is social


def test_fallbacks_on_call_then_supervisor_then_admin(db_url: str) -> None:
    with session_scope(db_url) as s:
        kid = f.child(s)
        case = f.case(s, kid)
        assert route_case(s, case) is None
        admin = f.worker(s, "root", "1", role="admin")
        assert route_case(s, case) is admin
        boss = f.worker(s, "boss", "2", role="supervisor")
        assert route_case(s, case) is boss
        f.worker(s, "night-unlinked", None, on_call=True)
        night = f.worker(s, "night", "3", on_call=True)
        assert route_case(s, case) is night  # a reachable on-call worker first


def test_inactive_assigned_worker_is_skipped(db_url: str) -> None:
    with session_scope(db_url) as s:
        boss, social, kid = f.team(s)
        social.active = False
        s.flush()
        assert route_case(s, f.case(s, kid)) is boss


def test_recipient_levels(db_url: str) -> None:
    with session_scope(db_url) as s:
        boss, social, kid = f.team(s)
        admin = f.worker(s, "root", "1", role="admin")
        case = f.case(s, kid)
        assert recipients_for(s, case, 0) == [social]
        assert recipients_for(s, case, 1) == [social]
        assert recipients_for(s, case, 2) == [boss]
        assert recipients_for(s, case, 3) == [boss, admin]


def test_level_two_without_own_supervisor_goes_to_any_supervisor_or_admin(db_url: str) -> None:
    with session_scope(db_url) as s:
        kid = f.child(s)
        social = f.worker(s, "wang", "501")
        f.assign(s, kid, social)
        admin = f.worker(s, "root", "1", role="admin")
        case = f.case(s, kid)
        assert recipients_for(s, case, 2) == [admin]
        other = f.worker(s, "li", "7", role="supervisor")
        assert recipients_for(s, case, 2) == [other]


def test_who_may_act_on_a_case(db_url: str) -> None:
    with session_scope(db_url) as s:
        boss, social, kid = f.team(s)
        admin = f.worker(s, "root", "1", role="admin")
        stranger = f.worker(s, "zhao", "77")
        case = f.case(s, kid)
        assert may_act_on(s, social, case)
        assert may_act_on(s, boss, case)
        assert may_act_on(s, admin, case)
        assert not may_act_on(s, stranger, case)
        social.active = False
        assert not may_act_on(s, social, case)
