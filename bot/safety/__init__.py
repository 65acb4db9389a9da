"""Peiban risk detector: `detect(text, role)` -> Detection (see docs/design.md).

The detector (numpy, the encoder, the classifier) loads on first use of `detect` or
`warmup`, so the console and the alert worker can import `bot.safety.types` and
`bot.safety.categories` without it."""

from typing import Any

from .types import CATEGORIES, SEVERITIES, Detection, Signal

__all__ = ["detect", "warmup", "Detection", "Signal", "CATEGORIES", "SEVERITIES"]


def __getattr__(name: str) -> Any:
    if name in ("detect", "warmup"):
        from . import detector

        return getattr(detector, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
