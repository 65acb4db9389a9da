"""Fixtures for the alert tests: a migrated SQLite file per test, people, workers, cases."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

ROOT = str(Path(__file__).resolve().parents[2])
if ROOT not in sys.path:  # `tests` is not installed: make `import tests.…` work
    sys.path.insert(0, ROOT)

from tests.fakes.pytest_plugin import fake_telegram, telegram_env  # noqa: E402, F401

# Fast clocks for tests: retries in tens of ms, a re-notify deadline of 5 min becomes 0.3 s.
FAST_ENV = {
    "PEIBAN_RETRY_BASE_SECONDS": "0.05",
    "PEIBAN_RETRY_CAP_SECONDS": "0.4",
    "PEIBAN_ALERT_POLL_SECONDS": "0.05",
    "PEIBAN_UNROUTED_RECHECK_SECONDS": "0.2",
    "PEIBAN_SEND_TIMEOUT_SECONDS": "3",
    "PEIBAN_OUTBOX_LEASE_SECONDS": "5",
}


@pytest.fixture
def db_env() -> dict[str, str | None]:
    """The shared `db_url`, with fast clocks and a public console URL for alert links."""
    return {"PEIBAN_CONSOLE_URL": "https://console.example.org", "PEIBAN_RENOTIFY_SCALE": None,
            **FAST_ENV}
