"""Fixtures shared by every test package: a migrated SQLite database of the test's own."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Optional

import pytest
from cryptography.fernet import Fernet


def reset_caches() -> None:
    """Forget cached settings, keys, hashers and engines after the environment changed."""
    from bot.config import settings
    from bot.db import crypto
    from bot.db.session import dispose_all
    from bot.staff import passwords

    dispose_all()
    settings.cache_clear()
    crypto.reset_cipher()
    passwords.reset_hasher()


@pytest.fixture
def db_env() -> dict[str, Optional[str]]:
    """Extra environment for `db_url` (None removes a variable); packages override it."""
    return {}


@pytest.fixture
def db_url(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, db_env: dict[str, Optional[str]]
) -> Iterator[str]:
    """A fresh SQLite file migrated with Alembic, with its own data key and no webhook."""
    from bot.db.migrate import upgrade

    url = f"sqlite:///{tmp_path / 'peiban.db'}"
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.setenv("PEIBAN_DATA_KEY", Fernet.generate_key().decode())
    env: dict[str, Optional[str]] = {
        "ESCALATION_WEBHOOK_URL": None,
        "ESCALATION_WEBHOOK_SECRET": None,
        **db_env,
    }
    for name, value in env.items():
        if value is None:
            monkeypatch.delenv(name, raising=False)
        else:
            monkeypatch.setenv(name, value)
    reset_caches()
    upgrade(url)
    yield url
    reset_caches()


@pytest.fixture
def db(db_url: str):  # type: ignore[no-untyped-def]
    """The actions' database client on that file."""
    from actions.common import Database

    return Database(db_url)
