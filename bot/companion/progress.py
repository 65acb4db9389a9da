"""The child's week in a few friendly lines: check-ins as faces, exercises done, how they helped.

Only encouragement, never guilt: an empty week gets an invitation, not a reminder of
what was missed.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass
from typing import Optional

from bot.companion import content, ratings
from bot.companion.content import text_in


@dataclass(frozen=True)
class RunSummary:
    exercise: str
    status: str
    rating_before: Optional[int]
    rating_after: Optional[int]


def week_lines(checkins: list[tuple[dt.datetime, int]], runs: list[RunSummary], lang: str,
               turn: int = 0) -> list[str]:
    """The lines to show; empty when there is nothing this week."""
    texts = content.common()["progress"]
    done = [r for r in runs if r.status == "done"]
    if not checkins and not done:
        return []
    lines = []
    if checkins:
        row = "".join(ratings.face(score) for _, score in sorted(checkins))
        lines.append(text_in(texts["header"], lang).format(n=len(checkins), row=row))
    else:
        lines.append(text_in(texts["no_checkins"], lang))
    if done:
        lines.append(_exercise_line(done, lang))
        better = sum(
            1 for r in done
            if r.rating_before is not None and r.rating_after is not None
            and r.rating_after > r.rating_before
        )
        if better:
            lines.append(text_in(texts["better"], lang).format(n=better))
    lines.append(text_in(texts["encourage"], lang, index=turn))
    return lines


def _exercise_line(done: list[RunSummary], lang: str) -> str:
    texts = content.common()["progress"]
    counts = Counter(r.exercise for r in done)
    separator = "、" if lang == "zh" else ", "
    items = []
    for exercise_id, count in counts.most_common():
        ex = content.exercise(exercise_id)
        title = content.title_of(ex, lang) if ex else exercise_id
        items.append(text_in(texts["exercise_item"], lang).format(title=title, count=count))
    return text_in(texts["exercises"], lang).format(n=len(done), list=separator.join(items))
