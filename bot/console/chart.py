"""Mood check-ins as an inline SVG line chart, drawn on the server.

No JavaScript and no CDN: the picture is part of the page, so it works offline, under the
strict CSP, and on any phone. Only presentation attributes are used (no style attributes,
which the CSP would block); colours come from console.css classes.
"""

from __future__ import annotations

import datetime as dt

from markupsafe import Markup, escape

WIDTH, HEIGHT = 640, 240
LEFT, RIGHT, TOP, BOTTOM = 44, 16, 14, 34
BEIJING = dt.timedelta(hours=8)


def _x(at: dt.datetime, start: dt.datetime, span: float) -> float:
    return LEFT + (WIDTH - LEFT - RIGHT) * ((at - start).total_seconds() / span)


def _y(score: int) -> float:
    score = min(5, max(1, score))
    return TOP + (HEIGHT - TOP - BOTTOM) * (5 - score) / 4


def _day(at: dt.datetime) -> str:
    return (at + BEIJING).strftime("%m-%d")


def mood_chart(points: list[tuple[dt.datetime, int]], labels: dict[str, str]) -> Markup:
    """`labels`: title and `point` (a format string with {date} and {score})."""
    if not points:
        return Markup("")
    start, end = points[0][0], points[-1][0]
    if end <= start:  # one point (or all at once): give the axis a day of width
        start, end = start - dt.timedelta(hours=12), end + dt.timedelta(hours=12)
    span = (end - start).total_seconds()
    parts = [
        f'<svg class="mood-chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
        f'aria-label="{escape(labels["title"])}" xmlns="http://www.w3.org/2000/svg">',
        f"<title>{escape(labels['title'])}</title>",
    ]
    parts += _grid()
    coords = [(_x(at, start, span), _y(score)) for at, score in points]
    path = " ".join(f"{x:.1f},{y:.1f}" for x, y in coords)
    parts.append(f'<polyline class="mood-line" fill="none" stroke-width="2" points="{path}"/>')
    for (at, score), (x, y) in zip(points, coords, strict=True):
        tip = labels["point"].format(date=(at + BEIJING).strftime("%Y-%m-%d %H:%M"), score=score)
        parts.append(
            f'<circle class="mood-dot mood-{min(5, max(1, score))}" cx="{x:.1f}" cy="{y:.1f}" '
            f'r="4"><title>{escape(tip)}</title></circle>'
        )
    parts += _x_labels(points[0][0], points[-1][0], start, span)
    parts.append("</svg>")
    return Markup("".join(parts))


def _grid() -> list[str]:
    lines = []
    for score in range(1, 6):
        y = _y(score)
        lines.append(
            f'<line class="grid" x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y:.1f}" y2="{y:.1f}" '
            f'stroke-width="1"/>'
        )
        lines.append(
            f'<text class="axis" x="{LEFT - 8}" y="{y + 4:.1f}" text-anchor="end">{score}</text>'
        )
    return lines


def _x_labels(first: dt.datetime, last: dt.datetime, start: dt.datetime, span: float) -> list[str]:
    ticks = [first] if first == last else [first, first + (last - first) / 2, last]
    anchors = ["start", "middle", "end"] if len(ticks) == 3 else ["middle"]
    y = HEIGHT - 8
    return [
        f'<text class="axis" x="{_x(at, start, span):.1f}" y="{y}" text-anchor="{anchor}">'
        f"{_day(at)}</text>"
        for at, anchor in zip(ticks, anchors, strict=True)
    ]
