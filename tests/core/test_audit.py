"""The audit chain stays intact when several processes write at once."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from bot.db import audit
from bot.db.migrate import upgrade
from bot.db.session import session_scope

ROOT = Path(__file__).resolve().parents[2]
WRITER = """
import sys
from bot.db import audit
from bot.db.session import session_scope
for i in range(int(sys.argv[2])):
    with session_scope(sys.argv[1]) as session:
        audit.record(session, "test", "write", "n", i)
"""


def test_concurrent_writers_keep_one_chain(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'audit.db'}"
    upgrade(url)
    writers = [
        subprocess.Popen([sys.executable, "-c", WRITER, url, "120"], cwd=ROOT) for _ in range(3)
    ]
    assert all(w.wait(timeout=180) == 0 for w in writers)
    with session_scope(url) as session:
        assert audit.verify(session) == (True, None)
        assert session.query(audit.AuditLog).count() == 360


def test_tampering_is_detected(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'audit.db'}"
    upgrade(url)
    with session_scope(url) as session:
        for i in range(3):
            audit.record(session, "test", "write", "n", i)
    with session_scope(url) as session:
        row = session.get(audit.AuditLog, 2)
        row.actor = "someone else"
    with session_scope(url) as session:
        assert audit.verify(session) == (False, 2)
