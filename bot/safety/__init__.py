"""Peiban risk detector: `detect(text, role)` -> Detection (see docs/design.md)."""

from .detector import detect, warmup
from .types import CATEGORIES, SEVERITIES, Detection, Signal

__all__ = ["detect", "warmup", "Detection", "Signal", "CATEGORIES", "SEVERITIES"]
