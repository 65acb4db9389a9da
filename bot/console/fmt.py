"""Times for people in China: Beijing time (UTC+8) and short durations, in both languages."""

from __future__ import annotations

import datetime as dt
from typing import Any

from bot.console.i18n import translate
from bot.db.models import utcnow

BEIJING = dt.timedelta(hours=8)


def beijing(moment: dt.datetime | None, with_date: bool = True) -> str:
    if moment is None:
        return "—"
    local = moment + BEIJING
    return local.strftime("%Y-%m-%d %H:%M" if with_date else "%H:%M")


class Formatter:
    """Bound to one language and one "now", so a page shows consistent times."""

    def __init__(self, lang: str, now: dt.datetime | None = None) -> None:
        self.lang = lang
        self.now = now or utcnow()

    def t(self, key: str, **values: Any) -> str:
        return translate(self.lang, key, **values)

    def bj(self, moment: dt.datetime | None) -> str:
        return beijing(moment)

    def duration(self, seconds: float) -> str:
        minutes = int(abs(seconds) // 60)
        if minutes < 1:
            return self.t("dur_lt_minute")
        if minutes < 60:
            return self.t("dur_minutes", n=minutes)
        hours, rest = divmod(minutes, 60)
        if hours < 48:
            return self.t("dur_hours", h=hours, m=rest)
        return self.t("dur_days", n=hours // 24)

    def waited(self, created_at: dt.datetime) -> str:
        return self.duration((self.now - created_at).total_seconds())

    def due(self, row: Any) -> str:
        """Time left before the alert is repeated (only while nobody has acknowledged)."""
        if row.status != "open" or row.notify_due_at is None:
            return "—"
        left = (row.notify_due_at - self.now).total_seconds()
        if left >= 0:
            return self.t("due_left", d=self.duration(left))
        return self.t("due_over", d=self.duration(left))

    def due_class(self, row: Any) -> str:
        if row.status != "open" or row.notify_due_at is None:
            return "due-none"
        return "due-over" if row.notify_due_at < self.now else "due-left"
