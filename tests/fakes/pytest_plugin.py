"""Pytest fixtures for the shared fakes.

Use from a conftest.py (pytest_plugins in a non-root conftest is not allowed)::

    from tests.fakes.pytest_plugin import fake_telegram, telegram_env  # noqa: F401
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest
import pytest_asyncio

from tests.fakes.telegram_api import FakeTelegram


@pytest_asyncio.fixture
async def fake_telegram() -> AsyncIterator[FakeTelegram]:
    """A running fake Bot API on a free loopback port (fresh per test)."""
    async with FakeTelegram() as fake:
        yield fake


@pytest.fixture
def telegram_env(
    fake_telegram: FakeTelegram, monkeypatch: pytest.MonkeyPatch
) -> Iterator[FakeTelegram]:
    """Point TELEGRAM_* settings at the fake (and clear bot.config's settings cache)."""
    monkeypatch.setenv("TELEGRAM_TOKEN", fake_telegram.token)
    monkeypatch.setenv("TELEGRAM_API_BASE_URL", fake_telegram.base_url)
    monkeypatch.setenv("TELEGRAM_SECRET_TOKEN", "test-secret_123")
    monkeypatch.delenv("TELEGRAM_PUBLIC_URL", raising=False)
    _clear_settings()
    yield fake_telegram
    _clear_settings()


def _clear_settings() -> None:
    try:
        from bot.config import settings
    except ImportError:  # pragma: no cover - only before the foundation exists
        return
    settings.cache_clear()
