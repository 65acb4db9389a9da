"""Fixtures for the channel tests: the fake Bot API and settings pointed at it."""

from __future__ import annotations

import sys
import types
from collections import OrderedDict
from pathlib import Path

import pytest

# `tests` is not an installed package: make `import tests.fakes` work however pytest is run.
ROOT = str(Path(__file__).resolve().parents[2])
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

from tests.fakes.pytest_plugin import fake_telegram, telegram_env  # noqa: E402,F401


@pytest.fixture
def cheap_safety(monkeypatch: pytest.MonkeyPatch) -> None:
    """A stand-in risk detector ("不想活" escalates): these tests are about the channels, not
    the detector (whose first call loads its models and would dominate the timings)."""
    from bot.channels import flood

    fake_safety = types.ModuleType("bot.safety")
    fake_safety.detect = lambda text, role=None: types.SimpleNamespace(  # type: ignore[attr-defined]
        escalate="不想活" in text)
    monkeypatch.setitem(sys.modules, "bot.safety", fake_safety)
    monkeypatch.setattr(flood, "_RISK_CACHE", OrderedDict())
