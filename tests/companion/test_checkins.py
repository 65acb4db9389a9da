"""Check-in patterns that open a watch note, and the note itself."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from bot.companion import checkins, store
from bot.db.models import Case, Person

DAY = dt.timedelta(days=1)
T0 = dt.datetime(2026, 3, 2, 4, 0)  # 12:00 in Beijing


def test_three_low_days_in_a_row() -> None:
    history = [(T0, 2), (T0 + DAY, 1), (T0 + 2 * DAY, 2)]
    assert "2, 1, 2" in checkins.watch_reason(history)


def test_two_low_days_or_a_good_day_between_is_not_a_pattern() -> None:
    assert checkins.watch_reason([(T0, 1), (T0 + DAY, 2)]) is None
    assert checkins.watch_reason([(T0, 2), (T0 + DAY, 4), (T0 + 2 * DAY, 2)]) is None


def test_several_low_check_ins_on_one_day_count_as_one_day() -> None:
    same_day = [(T0, 1), (T0 + dt.timedelta(hours=1), 2), (T0 + dt.timedelta(hours=2), 1)]
    assert checkins.watch_reason(same_day) is None


def test_a_day_is_judged_by_its_last_check_in() -> None:
    history = [(T0, 1), (T0 + DAY, 1), (T0 + 2 * DAY, 1), (T0 + 2 * DAY + dt.timedelta(hours=2), 3)]
    assert checkins.watch_reason(history) is None


def test_low_days_more_than_a_week_apart_do_not_count() -> None:
    history = [(T0, 2), (T0 + 6 * DAY, 2), (T0 + 9 * DAY, 2)]
    assert checkins.watch_reason(history) is None


def test_a_sharp_drop_from_the_previous_check_in() -> None:
    assert "5 → 2" in checkins.watch_reason([(T0, 5), (T0 + DAY, 2)])
    assert checkins.watch_reason([(T0, 4), (T0 + DAY, 2)]) is None


def test_days_follow_beijing_time() -> None:
    late_utc = dt.datetime(2026, 3, 2, 17, 0)  # 01:00 on 3 March in Beijing
    assert checkins.local_day(late_utc) == dt.date(2026, 3, 3)


def test_a_watch_note_reaches_the_case_table_once_per_open_case(db) -> None:  # type: ignore[no-untyped-def]
    with db.session() as session:
        child = store.person_for(session, "tg:42", "child")
        first = checkins.raise_watch(session, child, "low mood")
        second = checkins.raise_watch(session, child, "low mood again")
        assert first.id == second.id
    with db.session() as session:
        cases = session.execute(select(Case)).scalars().all()
        assert [(c.kind, c.status, c.summary) for c in cases] == [("watch", "open", "low mood")]
        assert cases[0].severity is None  # not an emergency


def test_without_the_alerts_package_the_case_is_written_directly(db, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    import builtins

    real_import = builtins.__import__

    def no_alerts(name, *args, **kwargs):  # type: ignore[no-untyped-def]
        if name.startswith("bot.alerts"):
            raise ImportError(name)
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_alerts)
    with db.session() as session:
        child = store.person_for(session, "tg:43", "child")
        case = checkins.raise_watch(session, child, "sharp drop")
        assert case.kind == "watch"
    with db.session() as session:
        person = session.execute(select(Person).where(Person.sender_id == "tg:43")).scalar_one()
        assert session.execute(select(Case).where(Case.child_id == person.id)).scalar_one()
