"""Mood check-ins: when a pattern is worth a gentle look from the child's social worker.

Not an emergency (the safety path owns those): three low days in a row, or a sharp drop
from one check-in to the next, opens a low-priority "watch" note.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Iterable, Optional

from sqlalchemy.orm import Session

from bot.alerts.outbox import enqueue_watch_note
from bot.companion import content
from bot.db.models import Case, Person

log = logging.getLogger(__name__)

LOW = 2  # a day is low when its check-in is 1 or 2
LOW_DAYS = 3
DROP = 3  # e.g. 5 -> 2, 4 -> 1
WINDOW = dt.timedelta(days=7)
BEIJING = dt.timedelta(hours=8)  # children's days start at midnight in China, not UTC


def local_day(moment: dt.datetime) -> dt.date:
    return (moment + BEIJING).date()


def day_scores(history: Iterable[tuple[dt.datetime, int]]) -> list[tuple[dt.date, int]]:
    """One score per day (the day's last check-in), oldest first."""
    by_day: dict[dt.date, tuple[dt.datetime, int]] = {}
    for moment, score in sorted(history):
        by_day[local_day(moment)] = (moment, score)
    return [(day, score) for day, (_, score) in sorted(by_day.items())]


def watch_reason(history: list[tuple[dt.datetime, int]],
                 now: Optional[dt.datetime] = None) -> Optional[str]:
    """Why the latest check-in deserves a watch note, or None.

    `history` holds (UTC time, score) for this child, the newest being the one just saved.
    Three low days in a row means: the three most recent days with a check-in, all within
    a week, each ending low. A drop means: at least 3 points below the previous check-in.
    """
    if not history:
        return None
    texts = content.common()["checkin"]
    ordered = sorted(history)
    latest_time, latest = ordered[-1]
    if len(ordered) >= 2 and ordered[-2][1] - latest >= DROP:
        return texts["watch_reason_drop"].format(before=ordered[-2][1], after=latest)
    now = now or latest_time
    recent = [(d, s) for d, s in day_scores(ordered) if d >= local_day(now - WINDOW)]
    last_days = recent[-LOW_DAYS:]
    if (
        len(last_days) == LOW_DAYS
        and last_days[-1][0] == local_day(latest_time)
        and all(score <= LOW for _, score in last_days)
    ):
        scores = ", ".join(str(s) for _, s in last_days)
        return texts["watch_reason_low_days"].format(days=LOW_DAYS, scores=scores)
    return None


def raise_watch(session: Session, child: Person, reason: str) -> Case:
    """A low-priority watch note for the child's social worker, through the alerts' outbox."""
    return enqueue_watch_note(session, child, reason)
