"""Fixtures for the channel tests: the fake Bot API and settings pointed at it."""

from __future__ import annotations

import sys
from pathlib import Path

# `tests` is not an installed package: make `import tests.fakes` work however pytest is run.
ROOT = str(Path(__file__).resolve().parents[2])
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

from tests.fakes.pytest_plugin import fake_telegram, telegram_env  # noqa: E402,F401
