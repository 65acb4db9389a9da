"""Category metadata: who to call, mandatory reporting, re-notify deadlines.

Numbers (China): 110 police, 120 ambulance, 119 fire, 12355 youth service
line, 12356 psychological assistance line.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from .types import CATEGORIES, SEVERITIES

if TYPE_CHECKING:  # pragma: no cover
    from .types import Detection

HOTLINES: dict[str, dict[str, str]] = {
    "110": {"zh": "110 报警", "en": "110 (police)"},
    "120": {"zh": "120 急救", "en": "120 (ambulance)"},
    "119": {"zh": "119 火警", "en": "119 (fire)"},
    "12355": {"zh": "12355 青少年服务热线", "en": "12355 (youth service line)"},
    "12356": {"zh": "12356 心理援助热线", "en": "12356 (psychological assistance line)"},
}


@dataclass(frozen=True)
class CategoryInfo:
    name: str
    zh: str
    en: str
    primary: str          # hotline number to give first
    secondary: str        # second number to offer
    mandatory_report: bool  # 2020 强制报告制度 applies (report to police)


CATEGORY_INFO: dict[str, CategoryInfo] = {
    # A suicidal child needs a crisis line first; 120 when means were taken.
    "suicide": CategoryInfo("suicide", "自杀风险", "suicide risk", "12356", "120", True),
    "self_harm": CategoryInfo("self_harm", "自伤", "self-harm", "12356", "120", True),
    "abuse": CategoryInfo("abuse", "家庭暴力/虐待", "abuse", "110", "12355", True),
    "sexual_abuse": CategoryInfo("sexual_abuse", "性侵害", "sexual abuse", "110", "12355", True),
    # Only serious neglect is reportable; the worker judges "serious": we mark every
    # neglect case so the prompt is shown.
    "neglect": CategoryInfo("neglect", "监护缺失", "neglect", "12355", "110", True),
    "bullying": CategoryInfo("bullying", "校园欺凌", "bullying", "110", "12355", False),
    "danger": CategoryInfo("danger", "紧急危险", "immediate danger", "110", "120", False),
    "runaway": CategoryInfo("runaway", "离家出走", "running away", "110", "12355", False),
}

# Seconds a worker has to acknowledge before we re-notify (then the supervisor).
RENOTIFY_SECONDS: dict[str, int] = {"imminent": 300, "high": 1800, "medium": 86400}

# Sub-kinds of a signal (rule ids carry them in the evidence) that change the number.
_SUBKIND_NUMBERS: tuple[tuple[str, str, str], ...] = (
    ("fire", "119", "120"),
    ("gas", "119", "120"),
    ("medical", "120", "110"),      # adult won't wake, child swallowed poison
    ("overdose", "120", "12356"),   # pills/pesticide already taken
    ("injury", "120", "12356"),     # bleeding self-injury
    ("water", "110", "120"),        # drowning: shout for adults, 110 + 120
)


def info(category: str) -> CategoryInfo:
    return CATEGORY_INFO[category]


def mandatory_report(category: str | None) -> bool:
    """True when the category is covered by the 2020 mandatory-reporting rule: the case
    is marked so the worker is prompted to report to police (for neglect the worker
    judges whether it is serious)."""
    info = CATEGORY_INFO.get(category or "")
    return bool(info and info.mandatory_report)


def renotify_seconds(severity: str | None) -> int:
    """Seconds a worker has to acknowledge; a case without a known severity counts as
    high, never as medium."""
    return RENOTIFY_SECONDS.get(severity or "", RENOTIFY_SECONDS["high"])


def hotlines(detection: "Detection") -> tuple[str, str]:
    """(primary, secondary) number for a detection, refined by the evidence."""
    if not detection.category or detection.category not in CATEGORY_INFO:
        return ("12355", "110")
    ci = CATEGORY_INFO[detection.category]
    text = " ".join(detection.evidence)
    if detection.severity == "imminent":
        for kind, primary, secondary in _SUBKIND_NUMBERS:
            if f".{kind}" in text or f"/{kind}" in text:
                return (primary, secondary)
    return (ci.primary, ci.secondary)


assert set(CATEGORY_INFO) == set(CATEGORIES)
assert set(RENOTIFY_SECONDS) == set(SEVERITIES)
