"""Append-only, hash-chained audit log of every human access and change."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from bot.db.models import AuditLog, utcnow


def _digest(prev_hash: str | None, entry: dict[str, Any]) -> str:
    body = json.dumps(entry, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(((prev_hash or "") + body).encode("utf-8")).hexdigest()


def _entry(row: AuditLog) -> dict[str, Any]:
    return {
        "created_at": row.created_at.isoformat(),
        "actor": row.actor,
        "action": row.action,
        "target_type": row.target_type,
        "target_id": row.target_id,
        "detail": row.detail,
    }


def _lock_chain(session: Session) -> None:
    """Serialise writers before reading the last hash, or two processes fork the chain."""
    dialect = session.get_bind().dialect.name
    if dialect == "sqlite":
        # A write statement takes SQLite's RESERVED lock even when it changes no row; other
        # writers then wait (busy_timeout) until we commit.
        session.execute(text("UPDATE audit_log SET id = id WHERE 0"))
    elif dialect == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(7365313)"))  # arbitrary, ours alone


def record(
    session: Session,
    actor: str,
    action: str,
    target_type: str | None = None,
    target_id: Any = None,
    detail: dict[str, Any] | None = None,
) -> AuditLog:
    """Add an audit row in the caller's transaction: the change and its record commit together."""
    _lock_chain(session)
    last = session.execute(select(AuditLog).order_by(AuditLog.id.desc()).limit(1)).scalar()
    row = AuditLog(
        created_at=utcnow(),
        actor=actor,
        action=action,
        target_type=target_type,
        target_id=None if target_id is None else str(target_id),
        detail=detail,
        prev_hash=last.hash if last else None,
    )
    row.hash = _digest(row.prev_hash, _entry(row))
    session.add(row)
    session.flush()
    return row


def verify(session: Session) -> tuple[bool, int | None]:
    """Check the whole chain; return (ok, id of the first broken row)."""
    prev: str | None = None
    for row in session.execute(select(AuditLog).order_by(AuditLog.id)).scalars():
        if row.prev_hash != prev or row.hash != _digest(prev, _entry(row)):
            return False, row.id
        prev = row.hash
    return True, None
