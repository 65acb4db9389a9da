"""Concern reports become cases for the right child and social worker."""

from __future__ import annotations

import pytest
from sqlalchemy import select, text

from bot.db.models import Case, Outbox
from bot.db.session import session_scope
from bot.guardian import concerns
from bot.guardian.concerns import ConcernReport, file_concern
from tests.guardian import factories as f


def report(sender: str = "tg:7001", **kw) -> ConcernReport:  # type: ignore[no-untyped-def]
    values = dict(sender_id=sender, what="孙子这几天放学就关在屋里哭，饭也不吃", since="这几天",
                  urgency="soon", callback=True, language="zh", role="guardian")
    values.update(kw)
    return ConcernReport(**values)


@pytest.mark.parametrize(
    ("text", "expected"),
    [("很急", "urgent"), ("很急，今天就要帮忙", "urgent"), ("不太急", "soon"), ("这几天", "soon"),
     ("不急", "later"), ("不急，想让社工知道", "later"), ("urgent", "urgent"), ("soon", "soon"),
     ("not urgent", "later"), ("Not very urgent", "soon"), ("I don't know", None), ("嗯", None),
     ("1", "urgent"), ("2", "soon"), ("3", "later"), ("4", None)],
)
def test_parse_urgency(text: str, expected: str | None) -> None:
    assert concerns.parse_urgency(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [("可以", True), ("好的", True), ("行", True), ("yes", True), ("不用", False),
     ("不可以", False), ("别打", False), ("no thanks", False), ("随便", None), ("", None)],
)
def test_parse_yes_no(text: str, expected: bool | None) -> None:
    assert concerns.parse_yes_no(text) == expected


@pytest.mark.parametrize(("text", "stop"), [
    ("停", True), ("算了，不说了", True), ("算了吧", True), ("Stop", True), ("never mind", True),
    ("I don't want to talk about it any more", True), ("这几天", False), ("不用了", False),
    ("他说算了不去上学", False), ("不急", False), ("", False),
])
def test_is_stop(text: str, stop: bool) -> None:
    assert concerns.is_stop(text) is stop


def test_since_buttons_are_written_out_for_the_worker() -> None:
    assert concerns.normalise_since("2") == "这几天 / a few days"
    assert concerns.normalise_since(" 上个星期开始的 ") == "上个星期开始的"
    assert concerns.normalise_since("  ") is None


def test_concern_goes_to_the_linked_childs_worker(db_url: str) -> None:
    with session_scope(db_url) as s:
        wang = f.worker(s, "wang", contact="王老师 138 0000 0000", chat_id="9001")
        grandma = f.person(s, "tg:7001", "guardian")
        child = f.person(s, "tg:1001", "child", "小星")
        f.link(s, grandma, child)
        f.assign(s, child, wang)
        filed = file_concern(s, report(), "concern:tg:7001:1")
        wang_id, child_id, grandma_id = wang.id, child.id, grandma.id
    assert filed.created and filed.child_id == child_id
    assert filed.worker is not None and filed.worker.worker_id == wang_id
    with session_scope(db_url) as s:
        case = s.get(Case, filed.case_id)
        assert (case.kind, case.category, case.severity, case.status) == (
            "concern", "concern", "medium", "open")
        assert (case.child_id, case.person_id, case.worker_id) == (child_id, grandma_id, wang_id)
        assert case.sender_id == "tg:7001" and not case.mandatory_report
        assert case.summary.startswith("孙子这几天")
        assert case.evidence["urgency"] == "soon" and case.evidence["callback"] is True
        assert any("这几天" in turn["text"] for turn in case.context)
        rows = s.execute(select(Outbox).where(Outbox.case_id == case.id)).scalars().all()
        assert [(r.channel, r.recipient, r.kind) for r in rows] == [("telegram", "9001", "alert")]
        raw = s.execute(text("SELECT summary FROM cases WHERE id = :i"), {"i": case.id}).scalar()
        assert "孙子" not in raw  # encrypted at rest


def test_urgent_concern_is_high_severity(db_url: str) -> None:
    with session_scope(db_url) as s:
        f.worker(s, "oncall", on_call=True, chat_id="9002")
        filed = file_concern(s, report(urgency="urgent"), "concern:tg:7001:2")
        assert s.get(Case, filed.case_id).severity == "high"


def test_with_several_children_the_chosen_one_counts(db_url: str) -> None:
    with session_scope(db_url) as s:
        li, zhao = f.worker(s, "li"), f.worker(s, "zhao")
        grandpa = f.person(s, "tg:7001", "guardian")
        a, b = f.person(s, "tg:1001", "child", "小星"), f.person(s, "tg:1002", "child", "小月")
        for child, w in ((a, li), (b, zhao)):
            f.link(s, grandpa, child)
            f.assign(s, child, w)
        filed = file_concern(s, report(child_id=b.id), "concern:tg:7001:3")
        assert (filed.child_id, filed.worker.worker_id) == (b.id, zhao.id)
        # not chosen: no child is guessed, the guardian's first linked child's worker routes it
        unsure = file_concern(s, report(), "concern:tg:7001:4")
        assert unsure.child_id is None and unsure.worker is not None


def test_a_child_of_someone_else_cannot_be_chosen(db_url: str) -> None:
    with session_scope(db_url) as s:
        f.person(s, "tg:7001", "guardian")
        stranger = f.person(s, "tg:1009", "child", "别人家的")
        filed = file_concern(s, report(child_id=stranger.id), "concern:tg:7001:5")
        assert filed.child_id is None


def test_unlinked_guardian_goes_to_the_on_call_worker(db_url: str) -> None:
    with session_scope(db_url) as s:
        f.worker(s, "zhang")
        duty = f.worker(s, "duty", on_call=True, chat_id="9003")
        filed = file_concern(s, report(sender="tg:7777"), "concern:tg:7777:1")
        assert filed.child_id is None and filed.worker.worker_id == duty.id
        case = s.get(Case, filed.case_id)
        assert case.person_id is not None and case.sender_id == "tg:7777"


def test_no_worker_at_all_still_keeps_the_case(db_url: str) -> None:
    with session_scope(db_url) as s:
        filed = file_concern(s, report(), "concern:tg:7001:6")
        assert filed.worker is None
        assert s.get(Case, filed.case_id).status == "open"


def test_the_same_report_is_filed_once(db_url: str) -> None:
    with session_scope(db_url) as s:
        first = file_concern(s, report(), "concern:tg:7001:7")
        again = file_concern(s, report(), "concern:tg:7001:7")
        assert again.case_id == first.case_id and not again.created
        assert s.execute(select(Case)).scalars().all() == [s.get(Case, first.case_id)]


def test_support_request_is_a_low_priority_concern(db_url: str) -> None:
    with session_scope(db_url) as s:
        w = f.worker(s, "wang", chat_id="9001")
        grandma = f.person(s, "tg:7001", "guardian")
        child = f.person(s, "tg:1001", "child")
        f.link(s, grandma, child)
        f.assign(s, child, w)
        filed = file_concern(s, concerns.support_request("tg:7001", "zh"), "support:tg:7001:1")
        case = s.get(Case, filed.case_id)
        assert (case.kind, case.category) == ("concern", "guardian_support")
        assert case.severity == "medium"
        assert case.worker_id == w.id and case.child_id == child.id


def test_an_alert_failure_does_not_lose_the_case(db_url: str, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    def broken(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise RuntimeError("boom")

    monkeypatch.setattr(concerns, "enqueue_case_alert", broken)
    with session_scope(db_url) as s:
        f.worker(s, "duty", on_call=True, chat_id="9003")
        filed = file_concern(s, report(), "concern:tg:7001:8")
        assert not filed.alerted
    with session_scope(db_url) as s:
        assert s.get(Case, filed.case_id) is not None
