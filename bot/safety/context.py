"""Conversation-level assessment over the last few user turns.

A message alone may stay under the threshold ("没人在乎我"), but together with
the next one ("我攒了好多药") it is a disclosure. Hints of the same category
add up (noisy-or) with older turns weighted less; any turn that already
escalated keeps the conversation escalated.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Sequence

from .detector import combine
from .types import NONE, Detection, Signal, most_severe

WINDOW = 5          # user messages considered
DECAY = 0.85        # weight per turn of age


def assess_conversation(detections: Sequence[Detection | dict | None],
                        window: int = WINDOW) -> Detection:
    """One Detection for the recent conversation (pure)."""
    recent = [_as_detection(d) for d in list(detections)[-window:]]
    if not recent:
        return NONE
    pooled: list[Signal] = []
    n = len(recent)
    for age, det in enumerate(reversed(recent)):
        w = DECAY ** age
        for s in det.signals:
            pooled.append(Signal(s.category, s.severity, s.score * w,
                                 f"context[-{age}]:{s.evidence}" if age else s.evidence,
                                 s.source if age == 0 else "context"))
        if det.escalate and not det.signals and det.category:
            # stored CLI dicts carry no signals: keep their decision
            pooled.append(Signal(det.category, det.severity or "medium", 1.0,
                                 f"context[-{age}]:escalated", "context"))
    result = _turn_severity(combine(pooled), recent)
    flagged = [d for d in recent if d.escalate]
    if result.escalate or not flagged:
        return _mark(result, n, recent)
    # an escalated turn can be diluted by decay; it still stands
    return max(flagged, key=lambda d: d.score)


def _turn_severity(result: Detection, recent: list[Detection]) -> Detection:
    """A turn's own severity in the winning category stands: pooled signals do not carry
    what the detector read off the whole message (an imminent cue such as 现在在桥上)."""
    if not result.escalate:
        return result
    own = [d.severity for d in recent
           if d.escalate and d.category == result.category and d.severity]
    top = most_severe([result.severity or "medium", *own])
    return result if top == result.severity else replace(result, severity=top)


def _mark(result: Detection, n: int, recent: list[Detection]) -> Detection:
    if result.escalate and not recent[-1].escalate and n > 1:
        ev = [*result.evidence, f"context:accumulated over {n} turns"]
        return Detection(True, result.category, result.severity, ev, result.signals, result.score)
    return result


def _as_detection(d: Detection | dict | None) -> Detection:
    if isinstance(d, Detection):
        return d
    return Detection.from_dict(d) if isinstance(d, dict) else NONE
