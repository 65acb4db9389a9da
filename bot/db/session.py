"""The one engine factory every process uses.

SQLite is shared by several processes (Rasa server, action server, alert worker, console):
WAL mode lets readers work while one writer commits, and busy_timeout makes a writer wait
for the lock instead of failing.
"""

from __future__ import annotations

import threading
from contextlib import contextmanager
from typing import Iterator

from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import QueuePool

from bot.config import settings

_lock = threading.Lock()
_engines: dict[str, Engine] = {}


def normalise_url(url: str) -> str:
    """SQLAlchemy 1.4 rejects the `postgres://` scheme many hosts hand out."""
    if url.startswith("postgres://"):
        return "postgresql://" + url[len("postgres://") :]
    return url


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _pragmas(dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=10000")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()


def get_engine(url: str | None = None) -> Engine:
    url = normalise_url(url or settings().database_url)
    with _lock:
        engine = _engines.get(url)
        if engine is None:
            if url.startswith("sqlite"):
                _ensure_sqlite_dir(url)
                # A real pool: without one every session reconnects and re-runs the pragmas.
                engine = create_engine(
                    url,
                    future=True,
                    poolclass=QueuePool,
                    pool_size=5,
                    max_overflow=10,
                    connect_args={"check_same_thread": False, "timeout": 10},
                )
                _configure_sqlite(engine)
            else:
                engine = create_engine(url, future=True, pool_pre_ping=True)
            _engines[url] = engine
        return engine


def _ensure_sqlite_dir(url: str) -> None:
    from pathlib import Path

    path = url.split("///", 1)[-1]
    if path and path != ":memory:":
        Path(path).parent.mkdir(parents=True, exist_ok=True)


def session_factory(url: str | None = None) -> sessionmaker:
    return sessionmaker(bind=get_engine(url), future=True, expire_on_commit=False)


@contextmanager
def session_scope(url: str | None = None) -> Iterator[Session]:
    """A transaction: commit on success, roll back on any error."""
    session = session_factory(url)()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def dispose_all() -> None:
    with _lock:
        for engine in _engines.values():
            engine.dispose()
        _engines.clear()
