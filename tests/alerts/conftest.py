"""Fixtures for the alert tests: a migrated SQLite file per test, people, workers, cases."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

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


def _reset_caches() -> None:
    from bot.config import settings
    from bot.db import crypto
    from bot.db.session import dispose_all

    dispose_all()
    settings.cache_clear()
    crypto.reset_cipher()


@pytest.fixture
def db_url(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A fresh SQLite file migrated with Alembic; DATABASE_URL and the data key point at it."""
    from bot.db.migrate import upgrade

    url = f"sqlite:///{tmp_path / 'peiban.db'}"
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.setenv("PEIBAN_DATA_KEY", Fernet.generate_key().decode())
    monkeypatch.setenv("PEIBAN_CONSOLE_URL", "https://console.example.org")
    monkeypatch.delenv("ESCALATION_WEBHOOK_URL", raising=False)
    monkeypatch.delenv("ESCALATION_WEBHOOK_SECRET", raising=False)
    monkeypatch.delenv("PEIBAN_RENOTIFY_SCALE", raising=False)
    for name, value in FAST_ENV.items():
        monkeypatch.setenv(name, value)
    _reset_caches()
    upgrade(url)
    yield url
    _reset_caches()
