"""Result types of the risk detector (pure data, JSON round-trippable)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping

CATEGORIES: tuple[str, ...] = (
    "suicide", "self_harm", "abuse", "sexual_abuse",
    "neglect", "bullying", "danger", "runaway",
)
SEVERITIES: tuple[str, ...] = ("imminent", "high", "medium")
SOURCES: tuple[str, ...] = ("lexicon", "pattern", "semantic", "classifier", "context")

SEVERITY_RANK = {"medium": 1, "high": 2, "imminent": 3}


def most_severe(severities: Iterable[str]) -> str:
    """The most urgent of some severities (an unknown one ranks lowest)."""
    return max(severities, key=lambda v: SEVERITY_RANK.get(v, 0))

# On a severity tie the category a worker must act on first wins.
CATEGORY_PRIORITY = {
    c: i for i, c in enumerate((
        "suicide", "sexual_abuse", "danger", "self_harm",
        "abuse", "neglect", "bullying", "runaway",
    ))
}
# A category escalates once its combined (noisy-or) score reaches this.
THRESHOLD = 0.5


def _clip(x: float) -> float:
    return float(min(1.0, max(0.0, x)))


@dataclass(frozen=True)
class Signal:
    category: str
    severity: str
    score: float
    evidence: str
    source: str
    # which reading a model layer scored: 0 the whole message, i its i-th sentence
    segment: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "category": self.category, "severity": self.severity,
            "score": round(self.score, 4), "evidence": self.evidence,
            "source": self.source,
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> "Signal":
        return cls(
            category=str(d.get("category", "")),
            severity=str(d.get("severity", "medium")),
            score=_clip(float(d.get("score", 0.0) or 0.0)),
            evidence=str(d.get("evidence", "")),
            source=str(d.get("source", "lexicon")),
        )


@dataclass(frozen=True)
class Detection:
    escalate: bool
    category: str | None
    severity: str | None
    evidence: list[str] = field(default_factory=list)
    signals: tuple[Signal, ...] = ()
    score: float = 0.0

    def to_cli_dict(self) -> dict[str, Any]:
        return {
            "escalate": self.escalate, "category": self.category,
            "severity": self.severity, "evidence": list(self.evidence),
        }

    def to_dict(self) -> dict[str, Any]:
        d = self.to_cli_dict()
        d["signals"] = [s.to_dict() for s in self.signals]
        return d

    @classmethod
    def from_dict(cls, d: Mapping[str, Any] | None) -> "Detection":
        """Rebuild from `to_dict()`/`to_cli_dict()` output; tolerant of junk."""
        if not isinstance(d, Mapping):
            return NONE
        cat = d.get("category")
        sev = d.get("severity")
        signals = tuple(
            Signal.from_dict(s) for s in (d.get("signals") or []) if isinstance(s, Mapping)
        )
        return cls(
            escalate=bool(d.get("escalate", False)),
            category=cat if cat in CATEGORIES else None,
            severity=sev if sev in SEVERITIES else None,
            evidence=[str(e) for e in (d.get("evidence") or [])],
            signals=signals,
            score=max((s.score for s in signals), default=0.0),
        )


NONE = Detection(escalate=False, category=None, severity=None)
